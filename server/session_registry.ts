/**
 * Who is connected right now: one entry per open ATM session, for the operator console and the
 * connection log. Holds no secrets, only ids, names and times.
 *
 * @module
 */

/** One open session as the console shows it. */
export interface SessionInfo {
  sessionId: string;
  atmId: string;
  customer: string | null;
  since: string;
  lastActivity: string;
}

/** One open session as kept: times in ms since the epoch, formatted only when listed. */
interface SessionEntry {
  sessionId: string;
  atmId: string;
  customer: string | null;
  sinceMs: number;
  lastActivityMs: number;
}

/** The table of open sessions. */
export class SessionRegistry {
  readonly #sessions = new Map<string, SessionEntry>();
  readonly #now: () => number;

  /** @param now Clock in ms since the epoch. */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Adds a session that just finished its handshake. */
  open(sessionId: string, atmId: string): void {
    const at = this.#now();
    this.#sessions.set(sessionId, {
      sessionId,
      atmId,
      customer: null,
      sinceMs: at,
      lastActivityMs: at,
    });
  }

  /** Records that a request arrived: once per request, so it only reads the clock. */
  touch(sessionId: string): void {
    const entry = this.#sessions.get(sessionId);
    if (entry) entry.lastActivityMs = this.#now();
  }

  /** Records who is logged in on the session (null after logout). */
  login(sessionId: string, customer: string | null): void {
    const entry = this.#sessions.get(sessionId);
    if (entry) entry.customer = customer;
  }

  /** Removes a session that ended. */
  close(sessionId: string): void {
    this.#sessions.delete(sessionId);
  }

  /** How many sessions are open. */
  get size(): number {
    return this.#sessions.size;
  }

  /** A snapshot of every open session, oldest first. */
  list(): SessionInfo[] {
    return [...this.#sessions.values()].map((entry) => ({
      sessionId: entry.sessionId,
      atmId: entry.atmId,
      customer: entry.customer,
      since: new Date(entry.sinceMs).toISOString(),
      lastActivity: new Date(entry.lastActivityMs).toISOString(),
    }));
  }
}
