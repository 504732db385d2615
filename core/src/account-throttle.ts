/**
 * The per-account login rule, shared by the broker (broker/src/auth-throttle.ts) and the
 * API (api/src/login-routes.ts), so the two cannot drift apart.
 *
 * Only failures count: `limit` failed logins for one account within `windowMs`, from any
 * mix of addresses, block the account for `blockMs` — but only for addresses that have
 * not logged in successfully as that account recently (its known addresses: at most
 * `knownAddressesPerAccount`, most recent kept, each for `knownForMs`). An attacker
 * guessing a password can therefore lock the account out of *new* addresses for a while,
 * but cannot lock its user out of the address they usually log in from, and gets no more
 * than `limit` guesses a window.
 *
 * Callers pass only names of real accounts (never what an unknown user typed), so the map
 * holds at most one entry per account. State is per process and in memory: a restart
 * forgets failures and known addresses alike.
 */
export interface AccountThrottleOptions {
  limit: number;
  blockMs: number;
  /** Failures older than this are forgotten, ms (default 60 s). */
  windowMs?: number;
  /** Known addresses kept per account (default 16). */
  knownAddressesPerAccount?: number;
  /** How long a successful login keeps its address exempt, ms (default: until pushed out by newer ones). */
  knownForMs?: number;
}

interface AccountEntry {
  /** Recent failures, oldest first (at most `limit`). */
  failures: number[];
  blockedUntil: number;
  /** Address → last successful login, ms; insertion order = least recent first. */
  known: Map<string, number>;
}

export class AccountThrottle {
  private readonly byAccount = new Map<string, AccountEntry>();
  private readonly windowMs: number;
  private readonly maxKnown: number;
  private readonly knownForMs: number;

  constructor(private readonly opts: AccountThrottleOptions) {
    this.windowMs = opts.windowMs ?? 60_000;
    this.maxKnown = opts.knownAddressesPerAccount ?? 16;
    this.knownForMs = opts.knownForMs ?? Number.POSITIVE_INFINITY;
  }

  /** How long (ms) a login as `account` from `addr` is still refused; 0 when it is not. */
  blockedFor(account: string, addr: string, now = Date.now()): number {
    const a = this.byAccount.get(account);
    if (!a || a.blockedUntil <= now) return 0;
    const knownAt = a.known.get(addr);
    if (knownAt !== undefined && now - knownAt < this.knownForMs) return 0;
    return a.blockedUntil - now;
  }

  /** A failed login as the real account `account`. */
  failed(account: string, now = Date.now()): void {
    const a = this.entry(account);
    a.failures = a.failures.filter((t) => t > now - this.windowMs);
    a.failures.push(now);
    // Only the newest `limit` failures can matter: keep the list bounded.
    if (a.failures.length > this.opts.limit) a.failures.splice(0, a.failures.length - this.opts.limit);
    if (a.failures.length >= this.opts.limit) a.blockedUntil = now + this.opts.blockMs;
  }

  /** A successful login as `account` from `addr`: the address is known (exempt) from now on. */
  succeeded(account: string, addr: string, now = Date.now()): void {
    const a = this.entry(account);
    a.known.delete(addr);
    a.known.set(addr, now);
    if (a.known.size > this.maxKnown) a.known.delete(a.known.keys().next().value!);
  }

  private entry(account: string): AccountEntry {
    let a = this.byAccount.get(account);
    if (!a) this.byAccount.set(account, (a = { failures: [], blockedUntil: 0, known: new Map() }));
    return a;
  }
}
