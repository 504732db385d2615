/**
 * The receiver's answer as the delivery log keeps it: bounded, so a receiver that
 * answers with a megabyte of HTML cannot fill the outbox, and free of our secrets, so a
 * receiver that echoes the request URL (a robot key, an access token) cannot put them
 * in the log.
 */

/** Longest answer kept, bytes of UTF-8. */
export const ANSWER_MAX_BYTES = 2048;
/** Most of an HTTP answer read to judge it (a JSON errcode); the rest is not read. */
export const ANSWER_READ_MAX_BYTES = 16 * 1024;

/** Cuts a string to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(s: string, maxBytes = ANSWER_MAX_BYTES): string {
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= maxBytes) return s;
  const ellipsis = '…';
  let end = maxBytes - Buffer.byteLength(ellipsis);
  // Step back over continuation bytes (10xxxxxx) to a character boundary.
  while (end > 0 && ((buf[end] ?? 0) & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8') + ellipsis;
}

/**
 * Replaces every occurrence of a secret (and its URL-encoded form) with `***`, then
 * bounds the result. Secrets shorter than 4 characters are not searched: they would
 * blank out ordinary words and are too short to be worth hiding that way.
 */
export function redact(text: string, secrets: readonly string[], maxBytes = ANSWER_MAX_BYTES): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < 4) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join('***');
  }
  return truncateUtf8(out, maxBytes);
}

/** Reads at most `maxBytes` of a response body and drops the rest of the stream. */
export async function readBounded(res: Response, maxBytes = ANSWER_READ_MAX_BYTES): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    // Ends the body early: the connection is not kept busy by an answer we will not read.
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}
