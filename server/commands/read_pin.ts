/**
 * Reads a PIN for an administrative command: without echo on a terminal, or one line from
 * standard input for scripts.
 *
 * @module
 */

import { isCancel, password } from "@clack/prompts";
import { CliError } from "./cli_error.ts";

/** Longest line read from standard input; a PIN is a few digits. */
const PIN_LINE_BYTES_MAX = 256;

async function readFirstLine(): Promise<string> {
  const reader = Deno.stdin.readable.getReader();
  const chunks: number[] = [];
  try {
    while (chunks.length <= PIN_LINE_BYTES_MAX) {
      const { value, done } = await reader.read();
      if (done) break;
      const newline = value.indexOf(10);
      chunks.push(...(newline < 0 ? value : value.subarray(0, newline)));
      if (newline >= 0) break;
    }
  } finally {
    reader.releaseLock();
  }
  if (chunks.length > PIN_LINE_BYTES_MAX) throw new CliError("PIN line on stdin is too long");
  return new TextDecoder().decode(new Uint8Array(chunks)).replace(/\r$/, "");
}

/**
 * Gets a PIN from the operator.
 *
 * @param options `fromStdin` reads a line from stdin; otherwise a masked prompt asks twice.
 * @returns The PIN as typed (validated by the caller).
 * @throws {CliError} When stdin is not a terminal and `fromStdin` is not set, or on cancel.
 */
export async function readPin(options: { fromStdin: boolean; label: string }): Promise<string> {
  if (options.fromStdin) return await readFirstLine();
  if (!Deno.stdin.isTerminal()) {
    throw new CliError(
      "standard input is not a terminal: pass --pin-stdin to read the PIN from it",
    );
  }
  const first = await password({ message: options.label });
  if (isCancel(first)) throw new CliError("cancelled");
  const second = await password({ message: "Repeat the PIN" });
  if (isCancel(second)) throw new CliError("cancelled");
  if (first !== second) throw new CliError("the two PINs differ; nothing was changed");
  return first;
}
