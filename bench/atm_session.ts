/**
 * One simulated ATM speaking the real protocol: a TCP connection to the bank, the secure-channel
 * handshake with the ATM's own credential (`connectChannel`), and JSON requests and responses
 * exactly as the `atm` command sends them, one at a time.
 *
 * @module
 */

import { decodeResponse, encodeMessage, type Request, type Response } from "../lib/messages.ts";
import { connectChannel, type SecureChannel } from "../lib/mod.ts";
import type { BenchAtm } from "./provision.ts";
import { BENCH_PIN } from "./config.ts";

/** Longest wait for one answer before the benchmark calls it a failure. */
const RESPONSE_TIMEOUT_MS = 30_000;

/** A request without its id: the session assigns one. */
export type BenchRequest = Request extends infer R ? R extends { id: string } ? Omit<R, "id">
  : never
  : never;

/** A request the bank refused, or answered with the wrong id. */
export class BenchRequestError extends Error {
  /** Creates the error from the bank's answer. */
  constructor(message: string) {
    super(message);
    this.name = "BenchRequestError";
  }
}

// Request ids must never repeat at the bank (a repeated id is a retry), across sessions too.
const RUN_TAG = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
let requestCounter = 0;

/** An open secure channel of one simulated ATM. */
export class AtmSession {
  readonly atm: BenchAtm;
  readonly #channel: SecureChannel;

  private constructor(atm: BenchAtm, channel: SecureChannel) {
    this.atm = atm;
    this.#channel = channel;
  }

  /**
   * Connects to the bank and runs the handshake.
   *
   * @param port The bank's port on 127.0.0.1.
   * @param atm The ATM's credential.
   * @returns The open session (not logged in).
   * @throws {ProtocolError | Deno.errors.ConnectionRefused} When the bank refuses or fails.
   */
  static async open(port: number, atm: BenchAtm): Promise<AtmSession> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const channel = await connectChannel(conn, { atmId: atm.atmId, psk: atm.psk });
    return new AtmSession(atm, channel);
  }

  /**
   * Sends one request and waits for its answer.
   *
   * @param request The request without id.
   * @returns The bank's answer, whether it carried out the request or refused it.
   * @throws {BenchRequestError} When the answer is for another request.
   * @throws {ProtocolError} When the channel fails.
   */
  async send(request: BenchRequest): Promise<Response> {
    const id = `${RUN_TAG}-${++requestCounter}`;
    await this.#channel.send(encodeMessage({ ...request, id } as Request));
    const response = decodeResponse(
      await this.#channel.receive({ timeoutMs: RESPONSE_TIMEOUT_MS }),
    );
    if (response.id !== id) throw new BenchRequestError(`Answer for ${response.id}, not ${id}`);
    return response;
  }

  /**
   * Sends one request that must succeed.
   *
   * @param request The request without id.
   * @returns The answer.
   * @throws {BenchRequestError} When the bank refused it.
   */
  async expectOk(request: BenchRequest): Promise<Response> {
    const response = await this.send(request);
    if (!response.ok) {
      throw new BenchRequestError(`${request.op} refused: ${response.error}`);
    }
    return response;
  }

  /**
   * Logs the ATM's customer in with the benchmark PIN.
   *
   * @throws {BenchRequestError} When the bank refused the login.
   */
  async login(): Promise<void> {
    await this.expectOk({ op: "login", user: this.atm.customer, pin: BENCH_PIN });
  }

  /** Closes the channel (authenticated close record, then the socket). */
  async close(): Promise<void> {
    await this.#channel.close();
  }
}
