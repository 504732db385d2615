import type { AuthenticateError } from 'aedes';

// MQTT 3.1.1 §3.2.2.3 CONNACK return codes.
export const IDENTIFIER_REJECTED = 2;
export const SERVER_UNAVAILABLE = 3;
export const BAD_USERNAME_OR_PASSWORD = 4;
export const NOT_AUTHORIZED = 5;

/** A refused CONNECT: Aedes sends `returnCode` in the CONNACK. */
export function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}
