import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import type { AedesOptions, Client } from 'aedes';
import { plainSecretEquals, verifySecret } from '../../core/src/password.ts';
import { admit } from './admit.ts';
import { authError, BAD_USERNAME_OR_PASSWORD, NOT_AUTHORIZED, SERVER_UNAVAILABLE } from './auth-error.ts';
import type { BrokerState } from './broker-state.ts';

const remoteAddress = (client: Client) => (client.conn as Partial<Socket>).remoteAddress ?? (client.req?.socket.remoteAddress) ?? 'unknown';

/**
 * Aedes' authenticate: the login throttle (auth-throttle.ts) and the connection limit first,
 * then the service account's secret or the gateway's (scrypt, with the cache of successful
 * checks in `s.verified`), then the client id (admit.ts).
 */
export function createAuthenticate(s: BrokerState): NonNullable<AedesOptions['authenticate']> {
  const { config, deps, throttle, refuse } = s;
  return function authenticate(client, username, password, done) {
    const addr = remoteAddress(client);
    // A real account's name, for the per-account throttle; an unknown username has none.
    const account = username !== undefined && (username === config.serviceUsername || deps.registry.current.gateways.has(username)) ? username : undefined;
    const throttled = throttle.check(addr, account);
    if (throttled) {
      refuse(throttled === 'address' ? 'throttled' : 'throttled_account');
      return done(authError(throttled === 'address' ? 'too many failed logins from this address; try later' : 'too many failed logins for this account; try later', SERVER_UNAVAILABLE), false);
    }
    if (s.counters.connections >= (config.maxConnections ?? Infinity)) {
      refuse('max_connections');
      return done(authError('broker at its connection limit', SERVER_UNAVAILABLE), false);
    }
    const fail = (reason: string, message: string) => {
      refuse(reason);
      throttle.failed(addr, account);
      done(authError(message, BAD_USERNAME_OR_PASSWORD), false);
    };
    // The bytes as sent: a text decode would map distinct invalid sequences to one secret.
    const secret = password ?? Buffer.alloc(0);
    if (!username) return fail('no_credentials', 'username and password required');
    if (username === config.serviceUsername) {
      if (!plainSecretEquals(secret, config.servicePassword)) return fail('bad_credentials', 'bad service credentials');
      throttle.succeeded(addr, username);
      return admit(s, client, username, { kind: 'service', name: client.id }, undefined, done);
    }
    // Gateways log in as "{enterpriseId}/{gatewayId}"; an unknown one gets the same
    // answer as a wrong secret, so gateway ids cannot be probed.
    const gw = deps.registry.current.gateways.get(username);
    if (!gw) return fail('unknown_gateway', 'bad username or password');
    const cacheKey = `${username}\0${createHash('sha256').update(secret).digest('hex')}\0${gw.secretHash}`;
    const accept = () => {
      throttle.succeeded(addr, username);
      admit(s, client, username, { kind: 'gateway', enterpriseId: gw.enterpriseId, gatewayId: gw.id }, gw.secretHash, done);
    };
    if (s.verified.has(cacheKey)) return accept();
    verifySecret(secret, gw.secretHash).then(
      (ok) => {
        if (!ok) {
          s.log.warn({ username, clientId: client.id, addr }, 'gateway refused: bad secret');
          return fail('bad_credentials', 'bad username or password');
        }
        s.verified.add(cacheKey);
        accept();
      },
      (err: Error) => done(authError(err.message, NOT_AUTHORIZED), false),
    );
  };
}
