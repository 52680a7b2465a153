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

/** The table of open sessions. */
export class SessionRegistry {
  readonly #sessions = new Map<string, SessionInfo>();
  readonly #now: () => number;

  /** @param now Clock in ms since the epoch. */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }

  /** Adds a session that just finished its handshake. */
  open(sessionId: string, atmId: string): void {
    const at = this.#iso();
    this.#sessions.set(sessionId, {
      sessionId,
      atmId,
      customer: null,
      since: at,
      lastActivity: at,
    });
  }

  /** Records that a request arrived. */
  touch(sessionId: string): void {
    const info = this.#sessions.get(sessionId);
    if (info) info.lastActivity = this.#iso();
  }

  /** Records who is logged in on the session (null after logout). */
  login(sessionId: string, customer: string | null): void {
    const info = this.#sessions.get(sessionId);
    if (info) info.customer = customer;
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
    return [...this.#sessions.values()].map((info) => ({ ...info }));
  }
}
