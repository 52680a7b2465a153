/**
 * What the ATM screen does, without HTTP: one customer at a time logs in with a PIN, carries out
 * the terminal menu's operations, and quits. The answers are the same plain-words lines the
 * terminal menu shows (`format.ts`), so the two ATMs say the same things.
 *
 * Like a real ATM it serves one customer at a time: a new login ends the previous customer's
 * session, three failed logins end the card session, and a customer who does nothing for
 * {@link CUSTOMER_IDLE_MS} is logged out.
 *
 * @module
 */

import type { BankAction, BankClient } from "../bank_client.ts";
import { LOGIN_ATTEMPTS_MAX } from "../constants.ts";
import { BankClientError, BankRefusalError } from "../errors.ts";
import { describeError, formatConfirmation, formatStatement } from "../format.ts";
import { checkPin, normalizeAmount, normalizeUser } from "../input.ts";
import { CUSTOMER_IDLE_MS } from "./constants.ts";

/** What the screen shows after a step: the same lines as the terminal menu. */
export type ScreenAnswer =
  /** Logged in, or an operation went through. */
  | { ok: true; message: string; customer: string; statement?: string }
  /** Refused or failed; `warning` adds what the customer should do next. */
  | { ok: false; message: string; warning?: string; ended?: boolean };

/** One operation as the page sends it; checked here before anything goes to the bank. */
export interface ScreenRequest {
  op?: unknown;
  amount?: unknown;
  to?: unknown;
}

/** Messages the terminal menu uses that do not come from `format.ts`. */
export const SCREEN_TEXT = {
  goodbye: "Goodbye. Please take your card.",
  tooManyLogins: `Too many failed logins (${LOGIN_ATTEMPTS_MAX}). Session ended.`,
  outcomeUnknown: "The outcome is unknown: check your balance before trying again.",
  notLoggedIn: "Your session has ended. Please log in again.",
  idle: "You were logged out after a while without activity. Please take your card.",
} as const;

/** Operations of the menu, as the page names them. */
const OPERATIONS: ReadonlySet<string> = new Set([
  "balance",
  "deposit",
  "withdraw",
  "transfer",
  "history",
]);

/** Options for {@link AtmScreen}. */
export interface AtmScreenOptions {
  /** Makes a fresh connection to the bank for a card session. */
  connect: () => BankClient;
  /** Customer idle limit [CUSTOMER_IDLE_MS]. */
  idleMs?: number;
}

function text(value: unknown, label: string): string {
  if (typeof value !== "string") throw new TypeError(`${label} must be text`);
  return value;
}

/**
 * Turns what the page sent into a bank action, with the terminal's checks and messages.
 *
 * @param request The operation and its fields.
 * @returns The action.
 * @throws {UsageError | AmountError | TypeError} When a field is missing or wrong.
 */
export function toAction(request: ScreenRequest): BankAction {
  const op = text(request.op, "Operation");
  if (!OPERATIONS.has(op)) throw new TypeError(`Unknown operation: ${op.slice(0, 20)}`);
  switch (op) {
    case "deposit":
    case "withdraw":
      return { op, amount: normalizeAmount(text(request.amount, "Amount")) };
    case "transfer":
      return {
        op,
        to: normalizeUser(text(request.to, "Recipient"), "Recipient"),
        amount: normalizeAmount(text(request.amount, "Amount")),
      };
    default:
      return { op: op as "balance" | "history" };
  }
}

/** The ATM screen's state: at most one card session and one logged-in customer. */
export class AtmScreen {
  readonly #connect: () => BankClient;
  readonly #idleMs: number;
  #client: BankClient | null = null;
  #failedLogins = 0;
  #loggedIn = false;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #endedByIdle = false;

  /** Creates an idle screen; nothing is connected until the first login. */
  constructor(options: AtmScreenOptions) {
    this.#connect = options.connect;
    this.#idleMs = options.idleMs ?? CUSTOMER_IDLE_MS;
  }

  /** The logged-in customer, or null. */
  get customer(): string | null {
    return this.#loggedIn ? this.#client?.customer ?? null : null;
  }

  /**
   * Logs a customer in, ending any earlier customer's session first.
   *
   * @param user The user name as typed.
   * @param pin The PIN as typed; goes to the bank only.
   * @returns Welcome, or the refusal; after {@link LOGIN_ATTEMPTS_MAX} refusals `ended` is true.
   */
  async login(user: unknown, pin: unknown): Promise<ScreenAnswer> {
    let name: string;
    try {
      name = normalizeUser(text(user, "User name"));
      checkPin(text(pin, "PIN"));
    } catch (error) {
      return { ok: false, message: error instanceof Error ? error.message : "Invalid input" };
    }
    if (this.#loggedIn) await this.#endCard();
    this.#client ??= this.#connect();
    try {
      await this.#client.login(name, pin as string);
    } catch (error) {
      if (!(error instanceof BankRefusalError)) {
        await this.#endCard();
        return { ok: false, message: describeError(error), ended: true };
      }
      this.#failedLogins += 1;
      if (this.#failedLogins < LOGIN_ATTEMPTS_MAX) {
        return { ok: false, message: describeError(error) };
      }
      await this.#endCard();
      return {
        ok: false,
        message: describeError(error),
        warning: SCREEN_TEXT.tooManyLogins,
        ended: true,
      };
    }
    this.#failedLogins = 0;
    this.#loggedIn = true;
    this.#endedByIdle = false;
    this.#touch();
    const customer = this.#client.customer ?? name;
    return { ok: true, message: `Welcome, ${customer}.`, customer };
  }

  /**
   * Carries out one menu operation for the logged-in customer.
   *
   * @param request The operation as the page sent it.
   * @returns The confirmation (and the mini-statement), or the reason it failed.
   */
  async act(request: ScreenRequest): Promise<ScreenAnswer> {
    const client = this.#client;
    if (!this.#loggedIn || client === null) {
      return {
        ok: false,
        message: this.#endedByIdle ? SCREEN_TEXT.idle : SCREEN_TEXT.notLoggedIn,
        ended: true,
      };
    }
    this.#touch();
    let action: BankAction;
    try {
      action = toAction(request);
    } catch (error) {
      // describeError words amount and usage errors; a TypeError is a page sending junk.
      return {
        ok: false,
        message: error instanceof TypeError ? error.message : describeError(error),
      };
    }
    const customer = client.customer ?? "";
    try {
      const answer = await client.request(action);
      this.#touch();
      if (action.op === "history") {
        const statement = formatStatement(answer.history ?? []);
        return { ok: true, message: "Mini-statement", customer, statement };
      }
      return { ok: true, message: formatConfirmation(action, answer), customer };
    } catch (error) {
      const unknownOutcome = error instanceof BankClientError && error.code === "unreachable" &&
        action.op !== "balance";
      return {
        ok: false,
        message: describeError(error),
        ...(unknownOutcome ? { warning: SCREEN_TEXT.outcomeUnknown } : {}),
      };
    }
  }

  /**
   * Ends the card session: logs out at the bank and forgets the PIN.
   *
   * @returns The goodbye line.
   */
  async quit(): Promise<ScreenAnswer> {
    await this.#endCard();
    return { ok: false, message: SCREEN_TEXT.goodbye, ended: true };
  }

  /** Ends any session; the screen can be used again afterwards. */
  async close(): Promise<void> {
    await this.#endCard();
  }

  #touch(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      this.#endCard().then(() => (this.#endedByIdle = true));
    }, this.#idleMs);
  }

  async #endCard(): Promise<void> {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    const client = this.#client;
    this.#client = null;
    this.#loggedIn = false;
    this.#failedLogins = 0;
    await client?.close().catch(() => {});
  }
}
