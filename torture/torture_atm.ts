/**
 * One simulated ATM of the torture run: it logs its customer in and runs random deposits,
 * withdrawals and transfers, one at a time. Whenever the connection breaks (the bank was killed)
 * it connects again, logs in again and sends the same request under the same request id, so the
 * bank can answer a retry with its first outcome instead of applying it twice.
 *
 * It speaks the real protocol through `lib/` (handshake, records, messages); it is a separate
 * client from `atm/bank_client.ts` only because the torture run must choose and remember every
 * request id, including those of requests whose answer never came.
 *
 * @module
 */

import { formatCents } from "../lib/amount.ts";
import {
  decodeResponse,
  encodeMessage,
  MessageError,
  type Request,
  type Response,
} from "../lib/messages.ts";
import { connectChannel, readCredential, type SecureChannel } from "../lib/mod.ts";
import type { History, MoneyKind, OpRecord } from "./history.ts";
import type { SeededRandom } from "./random.ts";
import type { TortureAtmSpec } from "./bank_setup.ts";

/** Tells an ATM where the bank listens right now; null while it is down or restarting. */
export interface BankAddress {
  port(): number | null;
}

/** Patience of one torture ATM. */
export interface AtmPolicy {
  /** Sends of one request during the run before it is left in doubt. */
  sendsMax: number;
  /** Pause after the first failed send; doubled after each further one. */
  backoffMsInitial: number;
  /** Longest pause between sends. */
  backoffMsMax: number;
  /** TCP connect, handshake and answer timeout of one send. */
  stepTimeoutMs: number;
  /** Largest amount of one operation, in cents. */
  amountCentsMax: number;
}

/** Answers that are final: the bank decided and stored its decision under the request id. */
const FINAL_REFUSALS: ReadonlySet<string> = new Set([
  "insufficient_funds",
  "unknown_recipient",
  "same_account",
  "balance_limit",
]);

/** Answers after which the same request is sent again: the bank did not decide anything. */
const RETRY_REFUSALS: ReadonlySet<string> = new Set(["busy"]);

/** The ATM's login was refused: the torture cannot go on meaningfully. */
export class TortureLoginError extends Error {
  /** @param atmId The ATM whose login failed. */
  constructor(atmId: string) {
    super(`Login of ATM ${atmId} was refused by the bank`);
    this.name = "TortureLoginError";
  }
}

/** The bank answered something it never should; the request is sent again all the same. */
class AnomalyError extends Error {
  /** @param message What was wrong with the answer. */
  constructor(message: string) {
    super(message);
    this.name = "AnomalyError";
  }
}

function parseCents(text: unknown): number | null {
  const match = typeof text === "string" ? /^(\d+)\.(\d{2})$/.exec(text) : null;
  if (!match) return null;
  return Number(match[1]) * 100 + Number(match[2]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One simulated ATM. */
export class TortureAtm {
  readonly #spec: TortureAtmSpec;
  readonly #bank: BankAddress;
  readonly #history: History;
  readonly #random: SeededRandom;
  readonly #policy: AtmPolicy;
  readonly #recipients: readonly string[];
  readonly #mine: OpRecord[] = [];
  #psk: Uint8Array | null = null;
  #channel: SecureChannel | null = null;

  /**
   * @param spec Its ATM id, credential file and customer.
   * @param options The bank's address, the shared history, its random source, its patience and
   *   the customers it may send transfers to.
   */
  constructor(
    spec: TortureAtmSpec,
    options: {
      bank: BankAddress;
      history: History;
      random: SeededRandom;
      policy: AtmPolicy;
      recipients: readonly string[];
    },
  ) {
    this.#spec = spec;
    this.#bank = options.bank;
    this.#history = options.history;
    this.#random = options.random;
    this.#policy = options.policy;
    this.#recipients = options.recipients.filter((name) => name !== spec.customer.name);
  }

  /** The operations this ATM started. */
  get ops(): readonly OpRecord[] {
    return this.#mine;
  }

  /**
   * Runs operations until `stop()` returns true, then finishes the one in flight.
   *
   * @param stop Checked before each new operation.
   * @throws {TortureLoginError} When the bank refuses the customer's login.
   */
  async run(stop: () => boolean): Promise<void> {
    const credential = await readCredential(this.#spec.credentialPath);
    this.#psk = credential.psk;
    while (!stop()) {
      const op = this.#history.begin(this.#nextOperation());
      this.#mine.push(op);
      await this.#carry(op, this.#policy.sendsMax);
    }
  }

  /**
   * Sends every operation left in doubt again under its own request id until the bank answers,
   * which settles it: the bank answers with the first outcome if it had applied it, or applies
   * it now.
   *
   * @param deadline Time (performance.now()) after which an operation stays in doubt.
   */
  async resolveInDoubt(deadline: number): Promise<void> {
    for (const op of this.#mine) {
      if (op.outcome.status !== "in_doubt") continue;
      while (op.outcome.status === "in_doubt" && performance.now() < deadline) {
        await this.#carry(op, this.#policy.sendsMax, true);
      }
    }
  }

  /** Closes the channel (no logout: the bank must cope with ATMs that vanish). */
  async close(): Promise<void> {
    await this.#drop();
    this.#psk?.fill(0);
  }

  #nextOperation(): Omit<OpRecord, "sends" | "outcome" | "anomalies"> {
    const random = this.#random;
    const kind = random.pick<MoneyKind>(["deposit", "deposit", "withdraw", "withdraw", "transfer"]);
    const base = {
      requestId: crypto.randomUUID(),
      atmId: this.#spec.atmId,
      customer: this.#spec.customer.name,
      kind,
      amountCents: random.integer(1, this.#policy.amountCentsMax),
    };
    return kind === "transfer" ? { ...base, to: random.pick(this.#recipients) } : base;
  }

  #request(op: OpRecord): Request {
    const amount = formatCents(op.amountCents);
    if (op.kind === "transfer") {
      return { id: op.requestId, op: "transfer", to: op.to!, amount };
    }
    return { id: op.requestId, op: op.kind, amount };
  }

  /** Sends `op` until it is answered or `sendsMax` sends failed; then it is in doubt. */
  async #carry(op: OpRecord, sendsMax: number, resolving = false): Promise<void> {
    const request = this.#request(op);
    for (let attempt = 0; attempt < sendsMax; attempt++) {
      if (attempt > 0) await sleep(this.#backoffMs(attempt));
      let response: Response;
      try {
        const channel = await this.#ensureChannel();
        op.sends++;
        response = await this.#exchange(channel, request);
      } catch (error) {
        if (error instanceof TortureLoginError) throw error;
        if (error instanceof AnomalyError || error instanceof MessageError) {
          op.anomalies.push(error.message);
        }
        await this.#drop();
        continue;
      }
      if (response.ok) {
        const balanceCents = parseCents(response.balance);
        if (balanceCents === null) op.anomalies.push(`unreadable balance ${response.balance}`);
        op.outcome = {
          status: "ok",
          balanceCents: balanceCents ?? -1,
          replayed: response.replayed === true,
          resolvedAtEnd: resolving,
        };
        return;
      }
      if (FINAL_REFUSALS.has(response.error)) {
        op.outcome = { status: "refused", reason: response.error, resolvedAtEnd: resolving };
        return;
      }
      if (!RETRY_REFUSALS.has(response.error)) op.anomalies.push(response.error);
    }
    op.outcome = { status: "in_doubt" };
  }

  #backoffMs(failures: number): number {
    const { backoffMsInitial, backoffMsMax } = this.#policy;
    const ceiling = Math.min(backoffMsMax, backoffMsInitial * 2 ** (failures - 1));
    return Math.round(ceiling / 2 + this.#random.next() * ceiling / 2);
  }

  async #ensureChannel(): Promise<SecureChannel> {
    if (this.#channel !== null) return this.#channel;
    const port = this.#bank.port();
    if (port === null) throw new Error("bank is down");
    const timeoutMs = this.#policy.stepTimeoutMs;
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port,
      signal: AbortSignal.timeout(timeoutMs),
    });
    let channel: SecureChannel;
    try {
      channel = await connectChannel(conn, { atmId: this.#spec.atmId, psk: this.#psk!, timeoutMs });
    } catch (error) {
      try {
        conn.close();
      } catch { /* closed by the failed handshake */ }
      throw error;
    }
    const { name, pin } = this.#spec.customer;
    const login = await this.#exchange(channel, {
      id: crypto.randomUUID(),
      op: "login",
      user: name,
      pin,
    }).catch(async (error) => {
      await channel.close().catch(() => {});
      throw error;
    });
    if (!login.ok) {
      await channel.close().catch(() => {});
      if (login.error === "busy") throw new Error("bank busy at login");
      throw new TortureLoginError(this.#spec.atmId);
    }
    this.#channel = channel;
    return channel;
  }

  async #exchange(channel: SecureChannel, request: Request): Promise<Response> {
    await channel.send(encodeMessage(request));
    const response = decodeResponse(
      await channel.receive({ timeoutMs: this.#policy.stepTimeoutMs }),
    );
    if (response.id !== request.id) {
      throw new AnomalyError(`Answer to ${response.id} arrived for request ${request.id}`);
    }
    return response;
  }

  async #drop(): Promise<void> {
    const channel = this.#channel;
    this.#channel = null;
    await channel?.close().catch(() => {});
  }
}
