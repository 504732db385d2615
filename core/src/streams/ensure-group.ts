import type { Redis } from 'ioredis';

/**
 * Creates consumer group `group` on stream `key` (and the stream) at the stream's start,
 * so the group sees every entry ever appended; an existing group is left as it is.
 */
export async function ensureGroup(redis: Redis, key: string, group: string): Promise<void> {
  try {
    await redis.call('XGROUP', 'CREATE', key, group, '0', 'MKSTREAM');
  } catch (err) {
    if (!(err instanceof Error && err.message.startsWith('BUSYGROUP'))) throw err;
  }
}
