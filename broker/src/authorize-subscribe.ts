import type { AedesOptions } from 'aedes';
import { checkSubscribe } from './acl.ts';
import type { BrokerState } from './broker-state.ts';

/** Aedes' authorizeSubscribe: the ACL (acl.ts); a refused filter is answered, not a closed connection. */
export function createAuthorizeSubscribe(s: BrokerState): NonNullable<AedesOptions['authorizeSubscribe']> {
  return function authorizeSubscribe(client, sub, done) {
    const id = s.identities.get(client);
    const why = id ? checkSubscribe(id, sub.topic) : 'not authenticated';
    if (why) {
      s.refuse('acl_subscribe');
      s.log.warn({ clientId: client.id, topic: sub.topic }, why);
      // A null subscription makes Aedes answer SUBACK 0x80 (failure) for this filter.
      return done(null, null);
    }
    done(null, sub);
  };
}
