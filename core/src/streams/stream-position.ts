/**
 * Where the consumer groups of one stream stand: how many entries are unconsumed (the
 * backlog) and below which id every entry has been acknowledged by every group (the
 * only entries trimming may remove).
 */
import type { Redis } from 'ioredis';
import { compareIds, pairs } from './stream-entry.ts';

export interface StreamPosition {
  /** Entries in the stream. */
  length: number;
  /**
   * Unconsumed entries: for each group, entries never delivered (XINFO GROUPS `lag`,
   * Redis ≥ 7) plus entries delivered but not acknowledged (`pending`); the largest over
   * the groups. With no group, every entry is unconsumed. When Redis cannot give the lag
   * (Redis < 7, or entries deleted after the group's position) it is the stream length,
   * an upper bound: trimming removes only acknowledged entries, so the excess is the
   * acknowledged tail not trimmed yet.
   */
  backlog: number;
  /**
   * Every entry below this id is acknowledged by every group (the lowest pending id of a
   * group, or its last-delivered id when nothing is pending); undefined with no group.
   */
  consumedBelow: string | undefined;
}

function isMissingKey(err: unknown): boolean {
  return err instanceof Error && /no such key/i.test(err.message);
}

/**
 * Reads a stream's position in at most two round trips (XLEN + XINFO GROUPS, then one
 * XPENDING summary per group with pending entries). Not atomic, and need not be:
 * a group's last-delivered id and lowest pending id only grow, and an entry at or below
 * the last-delivered id read first is either still pending when XPENDING runs (so the
 * bound is at or below it) or acknowledged; so `consumedBelow` never passes an
 * unconsumed entry.
 */
export async function readStreamPosition(redis: Redis, key: string): Promise<StreamPosition> {
  const res = await redis.pipeline().call('XLEN', key).call('XINFO', 'GROUPS', key).exec();
  if (!res) throw new Error('pipeline aborted');
  const [lenErr, len] = res[0]!;
  if (lenErr) throw lenErr;
  const length = Number(len);
  const [groupsErr, groupsReply] = res[1]!;
  if (groupsErr) {
    if (isMissingKey(groupsErr)) return { length: 0, backlog: 0, consumedBelow: undefined };
    throw groupsErr;
  }
  const groups = (Array.isArray(groupsReply) ? groupsReply : []).map(pairs);
  if (groups.length === 0) return { length, backlog: length, consumedBelow: undefined };

  const withPending = groups.filter((g) => Number(g.pending) > 0);
  const lowestPending = new Map<string, string>();
  if (withPending.length > 0) {
    const p = redis.pipeline();
    for (const g of withPending) p.call('XPENDING', key, String(g.name));
    const pr = (await p.exec()) ?? [];
    withPending.forEach((g, i) => {
      const [err, summary] = pr[i] ?? [new Error('no reply'), null];
      if (err) throw err;
      if (Array.isArray(summary) && typeof summary[1] === 'string') lowestPending.set(String(g.name), summary[1]);
    });
  }

  let backlog = 0;
  let consumedBelow: string | undefined;
  for (const g of groups) {
    const pending = Number(g.pending);
    const lag = typeof g.lag === 'number' ? g.lag : undefined;
    const groupBacklog = lag === undefined ? length : Math.min(length, lag + pending);
    backlog = Math.max(backlog, groupBacklog);
    const low = lowestPending.get(String(g.name)) ?? String(g['last-delivered-id']);
    consumedBelow = consumedBelow === undefined || compareIds(low, consumedBelow) < 0 ? low : consumedBelow;
  }
  return { length, backlog, consumedBelow };
}
