/**
 * Making text that came over the network safe to put on a terminal.
 *
 * @module
 */

import { BANK_MESSAGE_CHARS_MAX } from "./constants.ts";

/** C0 and C1 control characters and DEL: they could move the cursor or recolour the screen. */
const CONTROL_CHARS = /\p{Cc}+/gu;

/**
 * Removes control characters, collapses runs of them to one space and bounds the length, so a
 * string from the bank shows as one plain line.
 *
 * @example Clean a message
 * ```ts
 * import { cleanBankText } from "./display_text.ts";
 * if (cleanBankText("No\u001b[2Jfunds") !== "No [2Jfunds") throw new Error("not cleaned");
 * ```
 *
 * @param text Text received from the bank.
 * @returns The text, one line, at most BANK_MESSAGE_CHARS_MAX characters.
 */
export function cleanBankText(text: string): string {
  const plain = text.replace(CONTROL_CHARS, " ").trim();
  return plain.length <= BANK_MESSAGE_CHARS_MAX
    ? plain
    : `${plain.slice(0, BANK_MESSAGE_CHARS_MAX - 1)}…`;
}
