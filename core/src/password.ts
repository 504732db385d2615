import { createHash, randomBytes, scrypt, timingSafeEqual, type BinaryLike, type ScryptOptions } from 'node:crypto';

/**
 * Slow-KDF password hashes for users and gateway secrets:
 * `scrypt$N$r$p$saltB64$hashB64`. N=16384, r=8, p=1 is the OWASP baseline for scrypt.
 *
 * Secrets are compared as the bytes the client sent, never after a text decode (an
 * invalid UTF-8 sequence would otherwise turn into U+FFFD and match a different secret).
 * scrypt's PBKDF2-HMAC step zero-pads the key to the hash block, so "s" and "s\0\0"
 * derive the same key: a secret that is empty or holds a NUL byte is refused outright.
 */
const DEFAULTS = { N: 16384, r: 8, p: 1, keyLen: 32 };

const bytesOf = (secret: string | Buffer) => (typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret);

/** A secret we are willing to hash or check: non-empty and without NUL bytes. */
export function acceptableSecret(secret: string | Buffer): boolean {
  const b = bytesOf(secret);
  return b.length > 0 && !b.includes(0);
}

function scryptAsync(password: BinaryLike, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashSecret(secret: string | Buffer): Promise<string> {
  if (!acceptableSecret(secret)) throw new Error('a secret must be non-empty and hold no NUL byte');
  const salt = randomBytes(16);
  const { N, r, p, keyLen } = DEFAULTS;
  const key = await scryptAsync(bytesOf(secret), salt, keyLen, { N, r, p });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/**
 * Constant-time comparison of the secret's bytes; a malformed hash, an empty secret or
 * one holding a NUL byte verifies as false, never throws. The scrypt runs even then,
 * so the answer takes as long as for a wrong secret.
 */
export async function verifySecret(secret: string | Buffer, hash: string): Promise<boolean> {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  if (!N || !r || !p || expected.length === 0) return false;
  const bytes = bytesOf(secret);
  const key = await scryptAsync(bytes, salt, expected.length, { N, r, p, maxmem: 256 * N * r });
  return timingSafeEqual(key, expected) && acceptableSecret(bytes);
}

/**
 * A plain (unhashed) secret such as the service password, compared byte for byte in
 * constant time: both sides are hashed to equal-length digests first, so neither the
 * content nor the length leaks through timing.
 */
export function plainSecretEquals(given: string | Buffer, expected: string | Buffer): boolean {
  const a = createHash('sha256').update(bytesOf(given)).digest();
  const b = createHash('sha256').update(bytesOf(expected)).digest();
  return timingSafeEqual(a, b) && acceptableSecret(given) && acceptableSecret(expected);
}
