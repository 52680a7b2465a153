/**
 * Rate limit for console sign-ins: after {@link LOGIN_FAILURES_PER_WINDOW_MAX} failures from one
 * client address within {@link LOGIN_FAILURE_WINDOW_MS}, further attempts from it are refused
 * without checking the password until the oldest failure leaves the window. A success does not
 * wipe the record, so a guesser who also knows one good password gains nothing.
 *
 * The console listens on loopback by default, where every client has the same address; the
 * limit then holds for all clients together, which is what an operator console wants.
 *
 * @module
 */

import {
  LOGIN_CLIENTS_TRACKED_MAX,
  LOGIN_FAILURE_WINDOW_MS,
  LOGIN_FAILURES_PER_WINDOW_MAX,
} from "./constants.ts";

/** Limits of a login limiter; defaults from `constants.ts`. */
export interface LoginLimiterOptions {
  /** Clock in ms since the epoch. */
  now?: () => number;
  failuresMax?: number;
  windowMs?: number;
  clientsMax?: number;
}

/**
 * The answer to "may this client try now?". `firstRefusal` is true only for the first refusal of
 * a run, so a caller can audit a client being blocked without one record per hammered request.
 */
export type LoginPermit =
  | { allowed: true }
  | { allowed: false; retryAfterMs: number; firstRefusal: boolean };

/** Counts failed sign-ins per client over a sliding window. */
export class LoginLimiter {
  readonly #failures = new Map<string, number[]>();
  /** Clients whose current run of refusals was already reported as a first refusal. */
  readonly #refused = new Set<string>();
  readonly #now: () => number;
  readonly #failuresMax: number;
  readonly #windowMs: number;
  readonly #clientsMax: number;

  /** Creates a limiter that remembers nothing yet. */
  constructor(options: LoginLimiterOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#failuresMax = options.failuresMax ?? LOGIN_FAILURES_PER_WINDOW_MAX;
    this.#windowMs = options.windowMs ?? LOGIN_FAILURE_WINDOW_MS;
    this.#clientsMax = options.clientsMax ?? LOGIN_CLIENTS_TRACKED_MAX;
  }

  #recent(client: string): number[] {
    const cutoff = this.#now() - this.#windowMs;
    const times = (this.#failures.get(client) ?? []).filter((at) => at > cutoff);
    if (times.length === 0) {
      this.#failures.delete(client);
      this.#refused.delete(client);
    } else {
      this.#failures.set(client, times);
    }
    return times;
  }

  /**
   * Says whether a client may try a password now.
   *
   * @param client The client's address.
   * @returns Allowed, or refused with the ms until the next attempt is allowed.
   */
  check(client: string): LoginPermit {
    const times = this.#recent(client);
    if (times.length < this.#failuresMax) {
      this.#refused.delete(client);
      return { allowed: true };
    }
    const oldestInWindow = times[times.length - this.#failuresMax];
    const firstRefusal = !this.#refused.has(client);
    this.#refused.add(client);
    const retryAfterMs = oldestInWindow + this.#windowMs - this.#now();
    return { allowed: false, retryAfterMs, firstRefusal };
  }

  /**
   * Counts one failed attempt.
   *
   * @param client The client's address.
   */
  fail(client: string): void {
    const times = this.#recent(client);
    times.push(this.#now());
    // Only the newest failuresMax times matter for the decision; keep no more.
    if (times.length > this.#failuresMax) times.splice(0, times.length - this.#failuresMax);
    this.#failures.delete(client);
    this.#failures.set(client, times);
    while (this.#failures.size > this.#clientsMax) {
      const oldest = this.#failures.keys().next().value!;
      this.#failures.delete(oldest);
      this.#refused.delete(oldest);
    }
  }
}
