import { randomBytes } from 'node:crypto';
import { acceptableSecret, hashSecret } from '../core/src/password.ts';

/** Longest secret `--stdin` takes: far above any a gateway needs, and it bounds the read. */
export const MAX_SECRET_BYTES = 1024;

export const SECRET_USAGE = `hazardwatch secret            a new gateway secret and its hash for the registry
hazardwatch secret --stdin    the hash of the secret on standard input (one trailing newline dropped)
`;

/**
 * `hazardwatch secret`: a gateway secret and the scrypt hash the registry keeps under the
 * gateway (\`secretHash\`, core/src/password.ts). Without --stdin it makes one: 32 random
 * bytes, base64url (43 characters), printed once and stored nowhere. With --stdin it
 * hashes the given one, byte for byte as the broker compares it, and never prints it.
 */
export async function runSecret(args: readonly string[], stdin: () => Promise<Buffer>): Promise<{ code: number; stdout: string; stderr: string }> {
  if (args.length > 1 || (args.length === 1 && args[0] !== '--stdin')) return { code: 2, stdout: '', stderr: `hazardwatch: unknown arguments "${args.join(' ')}"\n\n${SECRET_USAGE}` };
  if (args[0] === '--stdin') {
    let bytes = await stdin();
    if (bytes.length > MAX_SECRET_BYTES + 2) return { code: 2, stdout: '', stderr: `hazardwatch: HW_ERR_BAD_SECRET: a secret is at most ${MAX_SECRET_BYTES} bytes\n` };
    if (bytes.at(-1) === 0x0a) bytes = bytes.subarray(0, bytes.at(-2) === 0x0d ? -2 : -1);
    if (!acceptableSecret(bytes)) return { code: 2, stdout: '', stderr: 'hazardwatch: HW_ERR_BAD_SECRET: a secret must be non-empty and hold no NUL byte (the broker refuses such secrets)\n' };
    if (bytes.length > MAX_SECRET_BYTES) return { code: 2, stdout: '', stderr: `hazardwatch: HW_ERR_BAD_SECRET: a secret is at most ${MAX_SECRET_BYTES} bytes\n` };
    return { code: 0, stdout: `secretHash: ${await hashSecret(bytes)}\n`, stderr: '' };
  }
  const secret = randomBytes(32).toString('base64url');
  return {
    code: 0,
    stdout: `secret: ${secret}\nsecretHash: ${await hashSecret(secret)}\n`,
    stderr: 'The secret goes to the gateway (its MQTT password) and is shown only now; the secretHash line goes under the gateway in the registry.\n',
  };
}
