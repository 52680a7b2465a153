/**
 * What the ATM says to people: plain-words error messages, confirmations, the mini-statement
 * table, and the exit status that goes with each kind of failure.
 *
 * @module
 */

import { AmountError } from "../lib/amount.ts";
import type { HistoryLine } from "../lib/messages.ts";
import { CredentialError } from "../lib/mod.ts";
import type { BankAction, BankAnswer } from "./bank_client.ts";
import {
  EXIT_CREDENTIAL,
  EXIT_FAILURE,
  EXIT_REFUSED,
  EXIT_UNREACHABLE,
  EXIT_USAGE,
} from "./constants.ts";
import { cleanBankText } from "./display_text.ts";
import { BankClientError, BankRefusalError, UsageError } from "./errors.ts";

/** Shown when the bank refused but sent no usable explanation. */
const REFUSAL_FALLBACKS: Partial<Record<BankRefusalError["code"], string>> = {
  login_failed: "Login failed. Check the user name and PIN.",
  insufficient_funds: "Insufficient funds for this amount.",
  unknown_recipient: "There is no customer with that name.",
  same_account: "You cannot transfer money to your own account.",
  busy: "The bank is busy right now. Nothing was applied; please try again later.",
};

/**
 * Says in plain words what went wrong, in one line.
 *
 * @param error Anything thrown by the ATM's code.
 * @returns A line for the screen or stderr; never contains a PIN or key.
 */
export function describeError(error: unknown): string {
  if (error instanceof UsageError || error instanceof AmountError) return error.message;
  if (error instanceof BankRefusalError) {
    if (error.message !== "") return error.message;
    return REFUSAL_FALLBACKS[error.code] ?? `The bank refused the request (${error.code}).`;
  }
  if (error instanceof BankClientError) {
    if (error.code === "unreachable") return `${error.message}. Please try again later.`;
    if (error.code === "protocol") return `${error.message}. Please try again later.`;
    return error.message;
  }
  if (error instanceof CredentialError) return `ATM credential problem: ${error.message}`;
  if (error instanceof Error) return `Unexpected ${error.name}: ${cleanBankText(error.message)}`;
  return "Unexpected failure";
}

/**
 * The exit status for a failure, so scripts can tell a typo from a refusal from an outage.
 *
 * @param error Anything thrown by the ATM's code.
 * @returns One of the EXIT_* constants.
 */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError || error instanceof AmountError) return EXIT_USAGE;
  if (error instanceof BankRefusalError) return EXIT_REFUSED;
  if (error instanceof BankClientError) {
    if (error.code === "unreachable") return EXIT_UNREACHABLE;
    if (error.code === "bad_server") return EXIT_USAGE;
    if (error.code === "rejected") return EXIT_CREDENTIAL;
    return EXIT_FAILURE;
  }
  if (error instanceof CredentialError) return EXIT_CREDENTIAL;
  return EXIT_FAILURE;
}

/**
 * Confirms a completed action in one line.
 *
 * @param action What was asked.
 * @param answer What the bank answered.
 * @returns E.g. `Deposited 50.00. Balance: 1050.00`.
 */
export function formatConfirmation(action: BankAction, answer: BankAnswer): string {
  const balance = `Balance: ${cleanBankText(answer.balance ?? "unknown")}`;
  switch (action.op) {
    case "balance":
      return balance;
    case "deposit":
      return `Deposited ${action.amount}. ${balance}`;
    case "withdraw":
      return `Withdrew ${action.amount}. Please take your cash. ${balance}`;
    case "transfer":
      return `Transferred ${action.amount} to ${action.to}. ${balance}`;
    case "history":
      return formatStatement(answer.history ?? []);
  }
}

function describeKind(line: HistoryLine): string {
  const other = cleanBankText(line.counterparty ?? "?");
  switch (line.kind) {
    case "opening":
      return "Opening balance";
    case "deposit":
      return "Deposit";
    case "withdraw":
      return "Withdrawal";
    case "transfer_in":
      return `Transfer from ${other}`;
    case "transfer_out":
      return `Transfer to ${other}`;
    default:
      return cleanBankText(String(line.kind));
  }
}

function describeTime(at: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(at);
  return match === null ? cleanBankText(at) : `${match[1]} ${match[2]}`;
}

/**
 * Lays out a mini-statement as a fixed-width table, oldest first, amounts right-aligned.
 *
 * @param history The lines from the bank's `history` answer.
 * @returns The table, lines joined by `\n`, without a trailing newline.
 */
export function formatStatement(history: readonly HistoryLine[]): string {
  if (history.length === 0) return "No transactions yet.";
  const header = ["Date (UTC)", "Transaction", "Amount", "Balance"];
  const rows = history.map((line) => [
    describeTime(line.at),
    describeKind(line),
    cleanBankText(line.amount),
    cleanBankText(line.balanceAfter),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column].length))
  );
  const render = (cells: string[]) =>
    cells.map((cell, column) =>
      column >= 2 ? cell.padStart(widths[column]) : cell.padEnd(widths[column])
    ).join("  ").trimEnd();
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  return [render(header), rule, ...rows.map(render)].join("\n");
}
