import { AccountThrottle } from '../../core/src/account-throttle.ts';

/**
 * Login throttling for the broker, per client address and per account.
 *
 * Per address: more than `perAddressLimit` failed logins from one address within the
 * window block that address for `blockMs`. A successful login clears only the failures
 * that address made *for that same account* (a gateway that fixed its secret), never
 * the failures against other accounts: otherwise an attacker holding one gateway's
 * credentials could guess another's secret forever, logging in as itself between tries.
 *
 * Per account: core/src/account-throttle.ts (the rule the API's login uses too):
 * `perAccountLimit` failures for one account within the window, from any mix of
 * addresses, lock that account for `blockMs` — but only for addresses that have not
 * logged in successfully as that account before (its known addresses, at most
 * `knownAddressesPerAccount`, most recent kept). An attacker guessing from many
 * addresses can therefore lock a gateway out of *new* addresses (a gateway whose address
 * changes during the attack waits for the block to end), but cannot lock it out of the
 * address it already connects from, and gets no more than the limit of guesses a window.
 *
 * Accounts in `neverLockAccounts` (the service account: ingest, rules and API connect with it)
 * are never locked per account (review 1 finding 4): their failures still count per address,
 * so a guessing address is blocked as any other, but no number of guesses from other
 * addresses keeps the real services out, even from an address they never used (a restarted
 * broker knows none; a service may move). Guessing the service secret is then bounded by
 * the per-address limit only, so it must be a long random secret.
 *
 * State is per broker process; in a cluster each node counts on its own, so the limits
 * apply per node.
 */
export interface AuthThrottleOptions {
  perAddressLimit: number;
  perAccountLimit: number;
  blockMs: number;
  /** Failures older than this are forgotten, ms. */
  windowMs?: number;
  /** Addresses tracked at once; the oldest entry is dropped past it (memory bound). */
  maxAddresses?: number;
  knownAddressesPerAccount?: number;
  /** Accounts never locked per account (the service account); their failures count per address only. */
  neverLockAccounts?: readonly string[];
}

export type ThrottleVerdict = 'address' | 'account' | undefined;

interface AddressEntry {
  /** Recent failures, oldest first: when, and for which account ('' = unknown username). */
  failures: { at: number; account: string }[];
  blockedUntil: number;
}

export class AuthThrottle {
  private readonly byAddress = new Map<string, AddressEntry>();
  private readonly byAccount: AccountThrottle;
  private readonly windowMs: number;
  private readonly maxAddresses: number;
  private readonly neverLock: ReadonlySet<string>;

  constructor(private readonly opts: AuthThrottleOptions) {
    this.windowMs = opts.windowMs ?? 60_000;
    this.maxAddresses = opts.maxAddresses ?? 100_000;
    this.neverLock = new Set(opts.neverLockAccounts ?? []);
    this.byAccount = new AccountThrottle({ limit: opts.perAccountLimit, blockMs: opts.blockMs, windowMs: this.windowMs, knownAddressesPerAccount: opts.knownAddressesPerAccount ?? 16 });
  }

  /** Whether a login from `addr` (as `account`, when the username is a known one) is refused now, and why. */
  check(addr: string, account: string | undefined, now = Date.now()): ThrottleVerdict {
    if ((this.byAddress.get(addr)?.blockedUntil ?? 0) > now) return 'address';
    if (account !== undefined && this.byAccount.blockedFor(account, addr, now) > 0) return 'account';
    return undefined;
  }

  /**
   * A failed login. `account` is the username when it names a real account (gateway or
   * service), undefined otherwise, so random usernames cannot grow the per-account map.
   */
  failed(addr: string, account: string | undefined, now = Date.now()): void {
    let e = this.byAddress.get(addr);
    if (!e) {
      if (this.byAddress.size >= this.maxAddresses) this.byAddress.delete(this.byAddress.keys().next().value!);
      this.byAddress.set(addr, (e = { failures: [], blockedUntil: 0 }));
    }
    e.failures = e.failures.filter((f) => f.at > now - this.windowMs);
    e.failures.push({ at: now, account: account ?? '' });
    // Only the newest `limit` failures can matter: keep the list bounded.
    if (e.failures.length > this.opts.perAddressLimit) e.failures.splice(0, e.failures.length - this.opts.perAddressLimit);
    if (e.failures.length >= this.opts.perAddressLimit) e.blockedUntil = now + this.opts.blockMs;
    // The service account is never locked per account (its failures still count per address).
    if (account !== undefined && !this.neverLock.has(account)) this.byAccount.failed(account, now);
  }

  /** A successful login as `account` from `addr`. */
  succeeded(addr: string, account: string, now = Date.now()): void {
    const e = this.byAddress.get(addr);
    if (e) {
      e.failures = e.failures.filter((f) => f.account !== account);
      if (e.failures.length === 0 && e.blockedUntil <= now) this.byAddress.delete(addr);
    }
    if (!this.neverLock.has(account)) this.byAccount.succeeded(account, addr, now);
  }
}
