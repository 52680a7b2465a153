/**
 * `bank operator passwd`: sets the password of the operator console. Asks twice without echo on
 * a terminal, or reads one line from standard input with `--password-stdin` (for scripts). Takes
 * effect at once, also for a bank that is already running.
 *
 * @module
 */

import { isCancel, password } from "@clack/prompts";
import { CliError, EXIT } from "../commands/cli_error.ts";
import {
  OPERATOR_PASSWORD_CHARS_MAX,
  OperatorPasswordError,
  operatorPasswordPath,
  setOperatorPassword,
  validateOperatorPassword,
} from "./operator_password.ts";

/** Longest line read from standard input: the longest password in UTF-8, plus a line ending. */
const PASSWORD_LINE_BYTES_MAX = OPERATOR_PASSWORD_CHARS_MAX * 4 + 2;

/** Flags of `bank operator passwd`. */
export interface OperatorPasswdFlags {
  /** The data directory. */
  data: string;
  /** Read the password from the first line of standard input instead of prompting. */
  passwordStdin?: boolean;
}

async function readFirstLine(): Promise<string> {
  const reader = Deno.stdin.readable.getReader();
  const bytes: number[] = [];
  try {
    while (bytes.length <= PASSWORD_LINE_BYTES_MAX) {
      const { value, done } = await reader.read();
      if (done) break;
      const newline = value.indexOf(10);
      bytes.push(...(newline < 0 ? value : value.subarray(0, newline)));
      if (newline >= 0) break;
    }
  } finally {
    reader.releaseLock();
  }
  if (bytes.length > PASSWORD_LINE_BYTES_MAX) {
    throw new CliError("the password line on standard input is too long", EXIT.usage);
  }
  return new TextDecoder().decode(new Uint8Array(bytes)).replace(/\r$/, "");
}

async function promptTwice(): Promise<string> {
  if (!Deno.stdin.isTerminal()) {
    throw new CliError(
      "standard input is not a terminal: pass --password-stdin to read the password from it",
      EXIT.usage,
    );
  }
  const first = await password({ message: "New operator console password" });
  if (isCancel(first)) throw new CliError("cancelled; nothing was changed");
  validateOrExplain(first);
  const second = await password({ message: "Repeat the password" });
  if (isCancel(second)) throw new CliError("cancelled; nothing was changed");
  if (first !== second) throw new CliError("the two passwords differ; nothing was changed");
  return first;
}

function validateOrExplain(candidate: string): void {
  try {
    validateOperatorPassword(candidate);
  } catch (error) {
    if (error instanceof OperatorPasswordError) {
      throw new CliError(`${error.message}; nothing was changed`, EXIT.usage);
    }
    throw error;
  }
}

/**
 * Sets the operator console password.
 *
 * @param flags The command's flags.
 * @throws {CliError} When the password breaks the rules, the two entries differ, the prompt is
 * cancelled, or stdin is not a terminal without `--password-stdin`. Nothing is changed then.
 */
export async function runOperatorPasswd(flags: OperatorPasswdFlags): Promise<void> {
  const candidate = flags.passwordStdin ? await readFirstLine() : await promptTwice();
  validateOrExplain(candidate);
  await setOperatorPassword(flags.data, candidate);
  console.log(`Operator console password set (${operatorPasswordPath(flags.data)}).`);
}
