import { describe, expect, it } from 'vitest';
import { acceptableSecret, hashSecret, plainSecretEquals, verifySecret } from '../src/password.ts';

describe('secrets compare byte for byte', () => {
  it('refuses a secret with trailing NULs, which scrypt alone would accept (HMAC zero-pads its key)', async () => {
    const hash = await hashSecret('gw-secret');
    expect(await verifySecret('gw-secret', hash)).toBe(true);
    expect(await verifySecret('gw-secret\0', hash)).toBe(false);
    expect(await verifySecret(Buffer.from('gw-secret\0\0\0'), hash)).toBe(false);
    expect(await verifySecret(Buffer.from('gw-secret'), hash)).toBe(true);
  });

  it('refuses an empty secret and will not hash one, nor one holding a NUL', async () => {
    expect(acceptableSecret('')).toBe(false);
    expect(acceptableSecret(Buffer.alloc(0))).toBe(false);
    expect(acceptableSecret('a\0b')).toBe(false);
    await expect(hashSecret('')).rejects.toThrow(/non-empty/);
    await expect(hashSecret('x\0')).rejects.toThrow(/NUL/);
  });

  it('does not decode the bytes as text first: two invalid UTF-8 sequences are not one secret', async () => {
    // Both decode to U+FFFD; the stored secret is the UTF-8 text "\uFFFD".
    const hash = await hashSecret('\uFFFD');
    expect(await verifySecret(Buffer.from([0xff]), hash)).toBe(false);
    expect(await verifySecret(Buffer.from([0xfe]), hash)).toBe(false);
    expect(await verifySecret(Buffer.from([0xef, 0xbf, 0xbd]), hash)).toBe(true);
  });

  it('compares a plain service secret byte for byte', () => {
    expect(plainSecretEquals('svc-secret', 'svc-secret')).toBe(true);
    expect(plainSecretEquals(Buffer.from('svc-secret'), 'svc-secret')).toBe(true);
    expect(plainSecretEquals('svc-secret\0', 'svc-secret')).toBe(false);
    expect(plainSecretEquals('svc-secre', 'svc-secret')).toBe(false);
    expect(plainSecretEquals('', '')).toBe(false);
  });
});
