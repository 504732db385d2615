import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { AuthenticateError, Client } from 'aedes';
import type { Identity } from './acl.ts';
import { authError, IDENTIFIER_REJECTED, NOT_AUTHORIZED, SERVER_UNAVAILABLE } from './auth-error.ts';
import type { BrokerState } from './broker-state.ts';
import type { ClaimResult } from './client-ids.ts';

/** MQTT allows 65,535 bytes; gateways need far fewer, and every claim is stored. */
const MAX_CLIENT_ID_CHARS = 256;
/** Client ids of internal services (`hw-ingest`, `hw-rules`, …): only the service account uses them. */
const SERVICE_ID_PREFIX = 'hw-';

/**
 * The credentials are right; now the client id (client-ids.ts): service ids `hw-*` are
 * the service account's, an id in use by or holding a stored session of another
 * username is refused, and a gateway holds at most `maxPersistentSessionsPerGateway`
 * persistent sessions. A refusal here leaves the id's owner connected and untouched.
 */
export function admit(s: BrokerState, client: Client, username: string, identity: Identity, secretHash: string | undefined, done: (err: AuthenticateError | null, ok: boolean) => void): void {
  const { log, refuse } = s;
  const clientId = client.id;
  if (clientId.length > MAX_CLIENT_ID_CHARS) {
    refuse('client_id_too_long');
    return done(authError(`client id longer than ${MAX_CLIENT_ID_CHARS} characters`, IDENTIFIER_REJECTED), false);
  }
  if (identity.kind === 'gateway' && clientId.startsWith(SERVICE_ID_PREFIX)) {
    refuse('client_id_reserved');
    log.warn({ username, clientId }, 'gateway refused: client ids hw-* are reserved for services');
    return done(authError(`client ids ${SERVICE_ID_PREFIX}* are reserved for services`, IDENTIFIER_REJECTED), false);
  }
  const token = randomUUID();
  const maxPersistent = identity.kind === 'gateway' ? (s.config.maxPersistentSessionsPerGateway ?? 8) : 0;
  s.clientIds.claim({ clientId, owner: username, persistent: !client.clean, maxPersistent, token }).then(
    (result: ClaimResult) => {
      if (result === 'taken') {
        refuse('client_id_taken');
        log.warn({ username, clientId }, 'refused: client id belongs to another identity');
        return done(authError('client id in use by another identity', IDENTIFIER_REJECTED), false);
      }
      if (result === 'session-limit') {
        refuse('persistent_session_limit');
        log.warn({ username, clientId, max: maxPersistent }, 'refused: too many persistent sessions for this gateway');
        return done(authError(`at most ${maxPersistent} persistent sessions per gateway; connect with clean = true to end one`, NOT_AUTHORIZED), false);
      }
      const release = () => void s.clientIds.release(clientId, token).catch((err: Error) => log.warn({ clientId, err: err.message }, 'could not release client id claim'));
      // The connection may have gone while the claim was made: Aedes then never calls back.
      if (client.closed || (client.conn as Partial<Socket>).destroyed) return release();
      client.conn.once('close', release);
      s.identities.set(client, identity);
      if (secretHash !== undefined) s.authHashes.set(client, secretHash);
      done(null, true);
    },
    (err: Error) => {
      refuse('client_id_store');
      log.error({ clientId, err: err.message }, 'client id claim failed');
      done(authError('client id registry unavailable', SERVER_UNAVAILABLE), false);
    },
  );
}
