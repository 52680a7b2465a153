/**
 * Signed-in operator sessions, held only in the bank's memory. The browser holds a random
 * 256-bit token in an HttpOnly cookie; the table holds the SHA-256 of each token, so looking one
 * up does not compare secrets byte by byte, and a dump of this process's memory shows no token
 * that could be replayed. A bank restart signs everyone out.
 *
 * @module
 */

import { toBase64Url, toHex } from "../../lib/bytes.ts";
import {
  SESSION_IDLE_MS,
  SESSION_LIFETIME_MS,
  SESSION_TOKEN_BYTES,
  SESSION_TOKEN_CHARS_MAX,
  SESSIONS_MAX,
} from "./constants.ts";

/** What the console knows about a signed-in operator. */
export interface OperatorSession {
  /** A short id for logs and the audit record; not the token and not derived from it. */
  id: string;
  /** Ms since the epoch. */
  createdAt: number;
  /** Ms since the epoch of the last request. */
  lastSeenAt: number;
  /** True when the operator signed in with the one-time first-start password. */
  oneTimePassword: boolean;
}

/** Limits of a session table; defaults from `constants.ts`. */
export interface SessionTableOptions {
  /** Clock in ms since the epoch. */
  now?: () => number;
  lifetimeMs?: number;
  idleMs?: number;
  sessionsMax?: number;
}

async function digest(token: string): Promise<string> {
  const bytes = new TextEncoder().encode(token);
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

/** The table of signed-in operator sessions, with expiry. */
export class SessionTable {
  readonly #sessions = new Map<string, OperatorSession>();
  readonly #now: () => number;
  readonly #lifetimeMs: number;
  readonly #idleMs: number;
  readonly #sessionsMax: number;

  /** Creates an empty table. */
  constructor(options: SessionTableOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#lifetimeMs = options.lifetimeMs ?? SESSION_LIFETIME_MS;
    this.#idleMs = options.idleMs ?? SESSION_IDLE_MS;
    this.#sessionsMax = options.sessionsMax ?? SESSIONS_MAX;
  }

  /**
   * Opens a session for an operator who just proved the password.
   *
   * @param options `oneTimePassword`: whether the one-time password was used.
   * @returns The token for the cookie (shown to nobody else) and the session.
   */
  async create(options: { oneTimePassword: boolean }): Promise<
    { token: string; session: OperatorSession }
  > {
    this.#sweep();
    while (this.#sessions.size >= this.#sessionsMax) {
      const oldest = this.#sessions.keys().next().value!;
      this.#sessions.delete(oldest);
    }
    const token = toBase64Url(crypto.getRandomValues(new Uint8Array(SESSION_TOKEN_BYTES)));
    const now = this.#now();
    const session: OperatorSession = {
      id: toHex(crypto.getRandomValues(new Uint8Array(6))),
      createdAt: now,
      lastSeenAt: now,
      oneTimePassword: options.oneTimePassword,
    };
    this.#sessions.set(await digest(token), session);
    return { token, session };
  }

  /**
   * Finds the live session of a token and marks it used now. An open live stream counts as use,
   * so a dashboard left open stays signed in, but never past {@link SESSION_LIFETIME_MS}.
   *
   * @param token The cookie value, or undefined when the request had none.
   * @returns The session, or undefined when the token is unknown, expired or idle too long.
   */
  async touch(token: string | undefined): Promise<OperatorSession | undefined> {
    const session = await this.#find(token);
    if (session) session.lastSeenAt = this.#now();
    return session;
  }

  async #find(token: string | undefined): Promise<OperatorSession | undefined> {
    if (token === undefined || token.length === 0 || token.length > SESSION_TOKEN_CHARS_MAX) {
      return undefined;
    }
    const key = await digest(token);
    const session = this.#sessions.get(key);
    if (session === undefined) return undefined;
    if (this.#expired(session)) {
      this.#sessions.delete(key);
      return undefined;
    }
    return session;
  }

  /**
   * Ends a session (sign-out). Unknown tokens are ignored.
   *
   * @param token The cookie value.
   * @returns The session that ended, if any.
   */
  async delete(token: string | undefined): Promise<OperatorSession | undefined> {
    if (token === undefined || token.length > SESSION_TOKEN_CHARS_MAX) return undefined;
    const key = await digest(token);
    const session = this.#sessions.get(key);
    this.#sessions.delete(key);
    return session;
  }

  /** Live sessions right now. */
  get size(): number {
    this.#sweep();
    return this.#sessions.size;
  }

  #expired(session: OperatorSession): boolean {
    const now = this.#now();
    return now - session.createdAt >= this.#lifetimeMs || now - session.lastSeenAt >= this.#idleMs;
  }

  #sweep(): void {
    for (const [key, session] of this.#sessions) {
      if (this.#expired(session)) this.#sessions.delete(key);
    }
  }
}
