/**
 * Scripted use of the ATM: log in, carry out one action, print the result (plain or one JSON
 * object), and exit with a status that says what happened.
 *
 * @module
 */

import type { BankAction, BankAnswer, BankClient } from "./bank_client.ts";
import { EXIT_OK } from "./constants.ts";
import { BankClientError, BankRefusalError, UsageError } from "./errors.ts";
import { describeError, exitCodeFor, formatConfirmation } from "./format.ts";

/** Options for {@link runScript}. */
export interface ScriptOptions {
  /** The connection to the bank; closed when done. */
  client: BankClient;
  /** The customer's name. */
  user: string;
  /** The customer's PIN. */
  pin: string;
  /** The one action to carry out. */
  action: BankAction;
  /** Print one JSON object instead of plain text. */
  json: boolean;
  /** Writes one line to stdout. */
  stdout: (line: string) => void;
  /** Writes one line to stderr. */
  stderr: (line: string) => void;
}

/** The machine-readable result of a scripted run: exactly one per run on stdout with `--json`. */
export type ScriptResult =
  | {
    ok: true;
    op: BankAction["op"];
    id: string;
    customer: string | null;
    balance?: string;
    history?: BankAnswer["history"];
    replayed?: boolean;
  }
  | { ok: false; error: string; message: string };

/**
 * Logs in, carries out the action and reports it. Success prints the result on stdout; failure
 * prints a one-line reason on stderr (and, with `json`, a failure object on stdout).
 *
 * @param options Client, credentials, action and output.
 * @returns EXIT_OK, or the exit status for the failure (see {@link exitCodeFor}).
 */
export async function runScript(options: ScriptOptions): Promise<number> {
  const { client, action, json } = options;
  try {
    await client.login(options.user, options.pin);
    const answer = await client.request(action);
    if (json) {
      const result: ScriptResult = {
        ok: true,
        op: action.op,
        id: answer.id,
        customer: client.customer,
        balance: answer.balance,
        history: answer.history,
        replayed: answer.replayed,
      };
      options.stdout(JSON.stringify(result));
    } else {
      options.stdout(formatConfirmation(action, answer));
    }
    return EXIT_OK;
  } catch (error) {
    reportFailure(error, options);
    return exitCodeFor(error);
  } finally {
    await client.close().catch(() => {});
  }
}

/**
 * Reports a failure: one line on stderr, plus a JSON failure object on stdout when `json`.
 *
 * @param error What went wrong.
 * @param output Whether to print JSON, and where to write.
 */
export function reportFailure(
  error: unknown,
  output: Pick<ScriptOptions, "json" | "stdout" | "stderr">,
): void {
  const message = describeError(error);
  output.stderr(`atm: ${message}`);
  if (output.json) {
    const result: ScriptResult = { ok: false, error: failureCode(error), message };
    output.stdout(JSON.stringify(result));
  }
}

function failureCode(error: unknown): string {
  if (error instanceof BankRefusalError) return error.code;
  if (error instanceof BankClientError) return error.code;
  if (error instanceof UsageError) return error.code;
  if (error instanceof Error && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return "internal";
}
