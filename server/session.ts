/**
 * One authenticated ATM connection: reads requests from the secure channel, hands them to the
 * bank, and writes one response per request. A customer must log in before anything else; the
 * session ends on logout of the channel, an idle timeout, or any protocol error.
 *
 * @module
 */

import { AmountError, formatCents } from "../lib/amount.ts";
import {
  decodeRequest,
  encodeMessage,
  HISTORY_ITEMS_MAX,
  type Request,
  type Response,
} from "../lib/messages.ts";
import { ProtocolError, type SecureChannel } from "../lib/mod.ts";
import { type Bank, BankUnavailableError } from "./bank.ts";
import type { Customer, HistoryItem, OperationResult } from "./ledger/store.ts";
import { ATM_REVOCATION_CHECK_MS, LOGIN_FAILURES_MAX } from "./constants.ts";
import type { Logger } from "./logger.ts";
import type { SessionRegistry } from "./session_registry.ts";

/** What a session needs besides its channel. */
export interface SessionOptions {
  bank: Bank;
  logger: Logger;
  registry: SessionRegistry;
  idleTimeoutMs: number;
}

/** Operations that move money, counted in the console's transactions-per-second chart. */
const MONEY_OPERATIONS: ReadonlySet<string> = new Set(["deposit", "withdraw", "transfer"]);

/** Plain-words refusals the ATM shows to the customer. */
const REFUSAL_MESSAGES = {
  login_failed: "Login failed. Check the user name and PIN. After " +
    `${LOGIN_FAILURES_MAX} wrong PINs in a row the account is locked for a while.`,
  not_logged_in: "Please log in first.",
  insufficient_funds: "Insufficient funds: the balance does not cover this amount.",
  unknown_recipient: "There is no customer with that name to transfer to.",
  same_account: "You cannot transfer money to your own account.",
  balance_limit: "The receiving balance would exceed the bank's limit.",
  request_conflict: "This request id was already used for a different request.",
  internal: "The bank could not complete the request.",
} as const;

function refusal(id: string, error: keyof typeof REFUSAL_MESSAGES): Response {
  return { id, ok: false, error, message: REFUSAL_MESSAGES[error] };
}

function historyLine(item: HistoryItem) {
  return {
    at: item.at,
    kind: item.kind,
    amount: formatCents(item.amountCents),
    counterparty: item.counterparty,
    balanceAfter: formatCents(item.balanceAfterCents),
  };
}

function moneyResponse(request: Request, result: OperationResult): Response {
  if (!result.ok) return refusal(request.id, result.reason);
  return {
    id: request.id,
    ok: true,
    op: request.op,
    balance: formatCents(result.balanceCents),
    replayed: result.replayed,
  };
}

/** Serves one ATM session until it ends. */
export class Session {
  readonly #channel: SecureChannel;
  readonly #options: SessionOptions;
  #customer: Customer | null = null;
  /** When the ATM was last known not to be revoked; the handshake has just checked it. */
  #atmCheckedAt = performance.now();

  /** Creates the session over an authenticated channel. */
  constructor(channel: SecureChannel, options: SessionOptions) {
    this.#channel = channel;
    this.#options = options;
  }

  /**
   * Answers requests until the ATM closes, goes idle, or breaks the protocol.
   *
   * @returns Why the session ended, for the connection log.
   */
  async run(): Promise<string> {
    const { registry, idleTimeoutMs } = this.#options;
    const channel = this.#channel;
    registry.open(channel.sessionId, channel.atmId);
    try {
      while (true) {
        const payload = await channel.receive({ timeoutMs: idleTimeoutMs });
        registry.touch(channel.sessionId);
        let request: Request;
        try {
          request = decodeRequest(payload);
        } catch (error) {
          this.#options.logger.warn("session", "bad_request", {
            atm: channel.atmId,
            session: channel.sessionId,
            error: (error as Error).message,
          });
          return "bad_request";
        }
        if (!await this.#atmStillActive()) return "atm_revoked";
        await channel.send(encodeMessage(await this.#answer(request)));
      }
    } catch (error) {
      if (error instanceof ProtocolError) return error.code;
      if (error instanceof BankUnavailableError) return "durability_lost";
      throw error;
    } finally {
      registry.close(channel.sessionId);
    }
  }

  /**
   * True unless the ATM was revoked since the last check. A revoked ATM's request goes
   * unanswered and its session ends; a ledger that cannot tell also ends it (fail closed).
   */
  async #atmStillActive(): Promise<boolean> {
    const now = performance.now();
    if (now - this.#atmCheckedAt < ATM_REVOCATION_CHECK_MS) return true;
    if (!await this.#options.bank.isAtmActive(this.#channel.atmId)) return false;
    this.#atmCheckedAt = now;
    return true;
  }

  async #answer(request: Request): Promise<Response> {
    const started = performance.now();
    let response: Response;
    try {
      response = await this.#dispatch(request);
    } catch (error) {
      response = this.#failureResponse(request, error);
    }
    const ms = performance.now() - started;
    if (MONEY_OPERATIONS.has(request.op) && response.ok) this.#options.bank.metrics.record(ms);
    this.#options.logger.infoBatched("session", request.op, {
      atm: this.#channel.atmId,
      customer: this.#customer?.name ?? (request.op === "login" ? request.user : undefined),
      request: request.id,
      result: response.ok ? "ok" : response.error,
      ms: ms.toFixed(1),
    });
    return response;
  }

  #failureResponse(request: Request, error: unknown): Response {
    if (error instanceof AmountError) {
      return { id: request.id, ok: false, error: "bad_amount", message: error.message };
    }
    // The ledger may have committed this request before the audit log failed, so no answer can
    // say "nothing was applied". The session ends unanswered: the ATM keeps the request in doubt
    // and retries it under the same id, which a healthy bank answers with the first outcome.
    if (error instanceof BankUnavailableError) throw error;
    this.#options.logger.warn("session", "internal_error", {
      atm: this.#channel.atmId,
      request: request.id,
      error: error instanceof Error ? error.message : String(error),
    });
    return refusal(request.id, "internal");
  }

  async #dispatch(request: Request): Promise<Response> {
    const { bank, registry } = this.#options;
    const atmId = this.#channel.atmId;
    if (request.op === "login") {
      const outcome = await bank.login(atmId, request.user, request.pin);
      if (!outcome.ok) return refusal(request.id, "login_failed");
      this.#customer = outcome.customer;
      registry.login(this.#channel.sessionId, outcome.customer.name);
      return { id: request.id, ok: true, op: "login", customer: outcome.customer.name };
    }
    const customer = this.#customer;
    if (!customer) return refusal(request.id, "not_logged_in");
    switch (request.op) {
      case "logout":
        bank.record({ type: "logout", atmId, customer: customer.name });
        this.#customer = null;
        registry.login(this.#channel.sessionId, null);
        return { id: request.id, ok: true, op: "logout" };
      case "balance": {
        const cents = await bank.store.balance(customer.id);
        return { id: request.id, ok: true, op: "balance", balance: formatCents(cents) };
      }
      case "history": {
        const items = await bank.store.history(customer.id, HISTORY_ITEMS_MAX);
        return { id: request.id, ok: true, op: "history", history: items.map(historyLine) };
      }
      case "deposit":
      case "withdraw": {
        const money = { kind: request.op, requestId: request.id, amount: request.amount };
        return moneyResponse(request, await bank.transact(atmId, customer, money));
      }
      case "transfer": {
        const money = {
          kind: request.op,
          requestId: request.id,
          amount: request.amount,
          to: request.to,
        };
        return moneyResponse(request, await bank.transact(atmId, customer, money));
      }
    }
  }
}
