/**
 * The ATM's connection to the bank: one secure channel at a time, one login on it, and one
 * request in flight. When the connection drops, the client connects again (failing over to the
 * next server), logs in again on the new channel and resends the pending request under the same
 * id, so the bank can recognise a retry and never applies a transaction twice.
 *
 * Used by the interactive menu, the scripted mode, and anything else that needs to act as an ATM.
 *
 * @module
 */

import {
  decodeResponse,
  encodeMessage,
  MessageError,
  type Request,
  type Response,
} from "../lib/messages.ts";
import { connectChannel, ProtocolError, type SecureChannel } from "../lib/mod.ts";
import {
  CONNECT_TIMEOUT_MS,
  HANDSHAKE_TIMEOUT_MS,
  REQUEST_ATTEMPTS_MAX,
  RESPONSE_TIMEOUT_MS,
  RETRY_BACKOFF_MS_INITIAL,
  RETRY_BACKOFF_MS_MAX,
} from "./constants.ts";
import { cleanBankText } from "./display_text.ts";
import { BankClientError, BankRefusalError } from "./errors.ts";
import { parseServerAddress, type ServerAddress } from "./server_address.ts";

/** A customer action: a request without its id (the client assigns one). */
export type BankAction =
  | { op: "balance" }
  | { op: "history" }
  | { op: "deposit" | "withdraw"; amount: string }
  | { op: "transfer"; to: string; amount: string };

/** The bank's answer when it carried out a request. */
export type BankAnswer = Extract<Response, { ok: true }>;

/** What the client is doing, for a screen or a log. Never carries a PIN or key. */
export type BankClientEvent =
  | { type: "connected"; server: string; sessionId: string }
  | { type: "connect_failed"; server: string; reason: string }
  | { type: "connection_lost"; server: string; reason: string; requestId: string }
  | { type: "retrying"; requestId: string; attempt: number; delayMs: number };

/** How often and how patiently the client retries. */
export interface RetryPolicy {
  /** Tries per request, each walking the server list once. */
  attemptsMax: number;
  /** Pause after the first failed try, doubled after each further one. */
  backoffMsInitial: number;
  /** Longest pause between tries. */
  backoffMsMax: number;
}

/** How long each step may take before it counts as failed. */
export interface TimeoutPolicy {
  /** TCP connect to one server. */
  connectMs: number;
  /** Secure-channel handshake. */
  handshakeMs: number;
  /** Waiting for the answer to one request. */
  responseMs: number;
}

/** Options for {@link BankClient}. */
export interface BankClientOptions {
  /** This ATM's id, as registered at the bank. */
  atmId: string;
  /** The ATM's pre-shared key; the client keeps its own copy and wipes it on close. */
  psk: Uint8Array;
  /** Bank servers as `host:port`, tried in this order. */
  servers: readonly string[];
  /** Retry limits [REQUEST_ATTEMPTS_MAX, RETRY_BACKOFF_MS_INITIAL, RETRY_BACKOFF_MS_MAX]. */
  retry?: Partial<RetryPolicy>;
  /** Step timeouts [CONNECT_TIMEOUT_MS, HANDSHAKE_TIMEOUT_MS, RESPONSE_TIMEOUT_MS]. */
  timeouts?: Partial<TimeoutPolicy>;
  /** Called on connects, failures and retries. */
  onEvent?: (event: BankClientEvent) => void;
}

/** Protocol failures that mean "this connection is unusable", so a new one may succeed. */
const CHANNEL_LOST_CODES: ReadonlySet<ProtocolError["code"]> = new Set([
  "closed",
  "truncated",
  "timeout",
  "bad_mac",
  "malformed",
  "frame_too_large",
  "unexpected_message",
  "sequence_exhausted",
  // After the handshake this can only mean our finished message was altered on the way.
  "handshake_failed",
]);

/** Socket errors that mean the connection broke under us. */
const SOCKET_LOST_ERRORS = [
  Deno.errors.ConnectionReset,
  Deno.errors.ConnectionAborted,
  Deno.errors.BrokenPipe,
  Deno.errors.NotConnected,
  Deno.errors.UnexpectedEof,
  Deno.errors.TimedOut,
] as const;

/** Every server in the list failed to connect during one try. */
class ServersDownError extends Error {
  constructor(readonly failures: string[]) {
    super(`No bank server answered: ${failures.join("; ")}`);
    this.name = "ServersDownError";
  }
}

/**
 * Handshake failures that mean the bank did not accept our credential: its proof did not verify
 * under our key (`bad_mac`), or it sent the generic failure after our finished message. Both also
 * fit a tampering network, but trying the same key again cannot fix either, so they are not
 * retried.
 */
const CREDENTIAL_REJECTED_CODES: ReadonlySet<ProtocolError["code"]> = new Set([
  "bad_mac",
  "handshake_failed",
]);

/** The message for a credential that no server accepted. */
const CREDENTIAL_REJECTED_MESSAGE =
  "The bank did not accept this ATM's credential (unknown, revoked or wrong key)";

function isChannelLost(error: unknown): boolean {
  if (error instanceof ServersDownError) return true;
  if (error instanceof ProtocolError) return CHANNEL_LOST_CODES.has(error.code);
  return SOCKET_LOST_ERRORS.some((type) => error instanceof type);
}

function isCredentialRejected(error: unknown): boolean {
  return error instanceof ProtocolError && CREDENTIAL_REJECTED_CODES.has(error.code);
}

function describeFailure(error: unknown): string {
  if (error instanceof ProtocolError) {
    if (isCredentialRejected(error)) return "the bank did not accept this ATM's credential";
    return `secure channel ${error.code}`;
  }
  if (error instanceof Deno.errors.ConnectionRefused) return "connection refused";
  if (error instanceof DOMException && error.name === "TimeoutError") return "no answer in time";
  if (error instanceof Error) return error.name;
  return "unknown error";
}

function isPermissionError(error: unknown): boolean {
  return error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A logged-in ATM session with the bank that survives dropped connections.
 *
 * Requests are carried out one at a time in call order. A request that fails because the
 * connection broke is resent under the same id, after logging in again on a new channel, up to
 * `retry.attemptsMax` tries with exponential backoff; the bank answers a resent id with the
 * original outcome instead of applying it twice.
 *
 * Note: the client must remember the PIN to log in again after a reconnect. It keeps it in a
 * private field only, never puts it in an error or event, and drops it on {@link close}.
 *
 * @example Check a balance
 * ```ts ignore
 * const client = new BankClient({ atmId: "atm-1", psk, servers: ["127.0.0.1:4000"] });
 * await client.login("alice", "1111");
 * const answer = await client.request({ op: "balance" });
 * console.log(answer.balance);
 * await client.close();
 * ```
 */
export class BankClient {
  readonly #atmId: string;
  readonly #psk: Uint8Array<ArrayBuffer>;
  readonly #servers: readonly string[];
  readonly #addresses: readonly ServerAddress[];
  readonly #retry: RetryPolicy;
  readonly #timeouts: TimeoutPolicy;
  readonly #onEvent: (event: BankClientEvent) => void;
  #serverIndex = 0;
  #channel: SecureChannel | null = null;
  #login: { user: string; pin: string } | null = null;
  #customer: string | null = null;
  #closed = false;
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * Creates a client; nothing is connected until {@link login}.
   *
   * @param options Identity, servers, limits and event callback.
   * @throws {BankClientError} With code `bad_server` for an empty list or a bad address.
   * @throws {RangeError} When a retry or timeout limit is not a positive number.
   */
  constructor(options: BankClientOptions) {
    if (options.servers.length === 0) {
      throw new BankClientError("bad_server", "At least one bank server address is needed");
    }
    this.#addresses = options.servers.map(parseServerAddress);
    this.#servers = [...options.servers];
    this.#atmId = options.atmId;
    this.#psk = new Uint8Array(options.psk);
    this.#retry = {
      attemptsMax: options.retry?.attemptsMax ?? REQUEST_ATTEMPTS_MAX,
      backoffMsInitial: options.retry?.backoffMsInitial ?? RETRY_BACKOFF_MS_INITIAL,
      backoffMsMax: options.retry?.backoffMsMax ?? RETRY_BACKOFF_MS_MAX,
    };
    this.#timeouts = {
      connectMs: options.timeouts?.connectMs ?? CONNECT_TIMEOUT_MS,
      handshakeMs: options.timeouts?.handshakeMs ?? HANDSHAKE_TIMEOUT_MS,
      responseMs: options.timeouts?.responseMs ?? RESPONSE_TIMEOUT_MS,
    };
    for (const [name, value] of Object.entries({ ...this.#retry, ...this.#timeouts })) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new RangeError(`Bank client option ${name} must be a positive integer: ${value}`);
      }
    }
    this.#onEvent = options.onEvent ?? (() => {});
  }

  /** The logged-in customer's name, or null before a successful login. */
  get customer(): string | null {
    return this.#customer;
  }

  /** The server of the open channel, as `host:port`, or null when not connected. */
  get server(): string | null {
    return this.#channel === null ? null : this.#servers[this.#serverIndex];
  }

  /**
   * Logs a customer in, replacing any earlier login of this client.
   *
   * @param user The customer's name.
   * @param pin The customer's PIN; kept privately for logging in again after a reconnect.
   * @returns The bank's answer.
   * @throws {BankRefusalError} With code `login_failed` for any unknown user, wrong PIN or lock.
   * @throws {BankClientError} With code `unreachable`, `protocol` or `closed`.
   */
  login(user: string, pin: string): Promise<BankAnswer> {
    return this.#serialize(async () => {
      this.#customer = null;
      this.#login = null;
      await this.#dropChannel();
      const request: Request = { id: crypto.randomUUID(), op: "login", user, pin };
      const answer = await this.#carry(request);
      this.#login = { user, pin };
      this.#customer = answer.customer ?? user;
      return answer;
    });
  }

  /**
   * Carries out one customer action under a fresh request id.
   *
   * @param action The operation and its fields; amounts as decimal strings.
   * @returns The bank's answer.
   * @throws {BankRefusalError} When the bank refuses (insufficient funds, unknown recipient ...).
   * @throws {BankClientError} With code `unreachable` when no server answered in time (the action
   *   may or may not have been applied), `protocol` or `closed`.
   */
  request(action: BankAction): Promise<BankAnswer> {
    return this.#serialize(() => {
      if (this.#login === null) {
        return Promise.reject(new BankClientError("closed", "Log in before making a request"));
      }
      return this.#carry({ ...action, id: crypto.randomUUID() });
    });
  }

  /**
   * Logs out (best effort, without retry), closes the channel and forgets the PIN and key.
   * Later calls of {@link login} or {@link request} fail with code `closed`.
   */
  close(): Promise<void> {
    return this.#serialize(async () => {
      const channel = this.#channel;
      if (channel !== null && this.#login !== null) {
        const logout: Request = { id: crypto.randomUUID(), op: "logout" };
        await this.#exchange(channel, logout).catch(() => {});
      }
      this.#closed = true;
      this.#login = null;
      this.#customer = null;
      this.#psk.fill(0);
      await this.#dropChannel();
    });
  }

  #serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => {
      if (this.#closed) throw new BankClientError("closed", "The bank client is closed");
      return task();
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Sends one request until it is answered, reconnecting and resending under the same id. */
  async #carry(request: Request): Promise<BankAnswer> {
    let lastFailure = "";
    for (let attempt = 1; attempt <= this.#retry.attemptsMax; attempt++) {
      if (attempt > 1) {
        const delayMs = this.#backoffMs(attempt - 1);
        this.#onEvent({ type: "retrying", requestId: request.id, attempt, delayMs });
        await sleep(delayMs);
      }
      try {
        const channel = await this.#ensureChannel();
        return this.#answerOrThrow(await this.#exchange(channel, request));
      } catch (error) {
        if (!isChannelLost(error)) {
          if (!(error instanceof BankRefusalError)) await this.#dropChannel();
          throw error;
        }
        lastFailure = error instanceof ServersDownError ? error.failures.join("; ") : (
          `${this.#servers[this.#serverIndex]} ${describeFailure(error)}`
        );
        this.#channelLost(error, request.id);
      }
    }
    throw new BankClientError(
      "unreachable",
      `Cannot reach the bank after ${this.#retry.attemptsMax} tries (${lastFailure})`,
    );
  }

  #answerOrThrow(response: Response): BankAnswer {
    if (response.ok) return response;
    throw new BankRefusalError(response.error, cleanBankText(response.message), response.id);
  }

  #channelLost(error: unknown, requestId: string): void {
    if (this.#channel === null) return; // no server answered: start the next try from the same one
    const server = this.#servers[this.#serverIndex];
    this.#onEvent({ type: "connection_lost", server, reason: describeFailure(error), requestId });
    const channel = this.#channel;
    this.#channel = null;
    channel.close().catch(() => {});
    this.#serverIndex = (this.#serverIndex + 1) % this.#servers.length;
  }

  #backoffMs(failures: number): number {
    const { backoffMsInitial, backoffMsMax } = this.#retry;
    const ceiling = Math.min(backoffMsMax, backoffMsInitial * 2 ** (failures - 1));
    // Half fixed, half random: ATMs cut off together by a bank restart do not return together.
    return Math.max(1, Math.round(ceiling / 2 + Math.random() * ceiling / 2));
  }

  /** Returns the open channel, or connects and logs in again on a new one. */
  async #ensureChannel(): Promise<SecureChannel> {
    if (this.#channel !== null) return this.#channel;
    const channel = await this.#connectAny();
    this.#channel = channel;
    if (this.#login !== null) {
      const { user, pin } = this.#login;
      const relogin: Request = { id: crypto.randomUUID(), op: "login", user, pin };
      const response = await this.#exchange(channel, relogin);
      if (!response.ok) {
        // The login that worked before is refused now (locked, or PIN changed): trying it again
        // on every request would only count more failures against the customer.
        this.#login = null;
        this.#customer = null;
        await this.#dropChannel();
      }
      this.#answerOrThrow(response);
    }
    return channel;
  }

  /** Tries every server once, starting with the preferred one; the first that answers wins. */
  async #connectAny(): Promise<SecureChannel> {
    const failures: string[] = [];
    let rejections = 0;
    const count = this.#servers.length;
    for (let step = 0; step < count; step++) {
      const index = (this.#serverIndex + step) % count;
      const server = this.#servers[index];
      try {
        const channel = await this.#connectOne(this.#addresses[index]);
        this.#serverIndex = index;
        this.#onEvent({ type: "connected", server, sessionId: channel.sessionId });
        return channel;
      } catch (error) {
        if (isPermissionError(error)) throw error;
        if (isCredentialRejected(error)) rejections++;
        const reason = describeFailure(error);
        failures.push(`${server} ${reason}`);
        this.#onEvent({ type: "connect_failed", server, reason });
      }
    }
    if (rejections === count) throw new BankClientError("rejected", CREDENTIAL_REJECTED_MESSAGE);
    throw new ServersDownError(failures);
  }

  async #connectOne(address: ServerAddress): Promise<SecureChannel> {
    const conn = await Deno.connect({
      hostname: address.hostname,
      port: address.port,
      transport: "tcp",
      signal: AbortSignal.timeout(this.#timeouts.connectMs),
    });
    try {
      return await connectChannel(conn, {
        atmId: this.#atmId,
        psk: this.#psk,
        timeoutMs: this.#timeouts.handshakeMs,
      });
    } catch (error) {
      try {
        conn.close();
      } catch { /* the channel already closed it */ }
      throw error;
    }
  }

  /** One request, one answer, on one channel; no retry here. */
  async #exchange(channel: SecureChannel, request: Request): Promise<Response> {
    await channel.send(encodeMessage(request));
    const bytes = await channel.receive({ timeoutMs: this.#timeouts.responseMs });
    let response: Response;
    try {
      response = decodeResponse(bytes);
    } catch (error) {
      if (!(error instanceof MessageError)) throw error;
      throw new BankClientError("protocol", "The bank sent an answer this ATM cannot read", {
        cause: error,
      });
    }
    if (response.id !== request.id) {
      throw new BankClientError("protocol", "The bank answered a different request than asked");
    }
    return response;
  }

  async #dropChannel(): Promise<void> {
    const channel = this.#channel;
    this.#channel = null;
    if (channel !== null) await channel.close().catch(() => {});
  }
}
