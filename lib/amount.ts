/**
 * Money amounts as typed by people and as held by the ledger. An amount is written as a plain
 * decimal with at most two fractional digits ("12", "12.5", "12.50") and held as a whole number of
 * cents in a JS number, always a safe integer.
 *
 * Accepted grammar, on purpose narrow so that one amount has few spellings and nothing a number
 * parser would guess at gets through:
 *
 *   amount   = integer [ "." 1*2DIGIT ]
 *   integer  = "0" / %x31-39 *DIGIT      ; no leading zeros, so "010" is never read as octal
 *
 * Refused as malformed: signs other than a leading "-" (which is reported as negative), spaces
 * anywhere, exponents ("1e3"), "NaN", "Infinity", hex ("0x10"), separators ("1,000"), a bare point
 * ("1." and ".5"), leading zeros ("01"), and any non-ASCII digit.
 *
 * @module
 */

/**
 * Largest amount of one deposit, withdrawal or transfer: 1,000,000.00. Well above any ATM
 * operation, and small enough that a typing slip of a few extra digits is refused.
 */
export const AMOUNT_CENTS_MAX = 100_000_000;

/**
 * Largest balance an account may hold: 100,000,000,000.00 (10^13 cents). Far below
 * Number.MAX_SAFE_INTEGER (about 9 * 10^15), so a balance plus any amount, and the sum of several
 * hundred maximal balances, are still exact.
 */
export const BALANCE_CENTS_MAX = 10_000_000_000_000;

/** Characters of the offending input quoted in an error message; keeps messages short. */
const QUOTED_CHARS_MAX = 32;

/** Digits of the integer part of {@link AMOUNT_CENTS_MAX}; more digits are over the limit. */
const INTEGER_DIGITS_MAX = String(AMOUNT_CENTS_MAX / 100).length;

if (!Number.isSafeInteger(BALANCE_CENTS_MAX * 400) || AMOUNT_CENTS_MAX > BALANCE_CENTS_MAX) {
  throw new Error("Amount limits are inconsistent: check AMOUNT_CENTS_MAX and BALANCE_CENTS_MAX");
}

const AMOUNT_PATTERN = /^(0|[1-9][0-9]*)(?:\.([0-9]{1,2}))?$/;
const DECIMALS_PATTERN = /^(0|[1-9][0-9]*)\.[0-9]{3,}$/;

/** Why an amount was refused. */
export type AmountErrorCode =
  | "empty"
  | "malformed"
  | "too_many_decimals"
  | "zero"
  | "negative"
  | "over_limit";

/** An amount that cannot be used. The message names the input and says what is wrong with it. */
export class AmountError extends Error {
  /** Which rule the input broke. */
  readonly code: AmountErrorCode;

  /**
   * Creates the error.
   *
   * @param code Which rule the input broke.
   * @param message A sentence that names the input.
   */
  constructor(code: AmountErrorCode, message: string) {
    super(message);
    this.name = "AmountError";
    this.code = code;
  }
}

/**
 * Parses an amount typed by a person into cents.
 *
 * @param text The amount, e.g. "12.50".
 * @returns The amount in cents, a safe integer from 1 to {@link AMOUNT_CENTS_MAX}.
 * @throws {AmountError} When the text is empty, malformed, has more than two decimals, is zero,
 * is negative, or is over {@link AMOUNT_CENTS_MAX}.
 *
 * @example Parse an amount
 * ```ts
 * import { parseAmount } from "./amount.ts";
 * if (parseAmount("12.5") !== 1250) throw new Error("expected 1250 cents");
 * ```
 */
export function parseAmount(text: string): number {
  if (typeof text !== "string") {
    throw new AmountError("malformed", `Amount must be text: got ${typeof text}`);
  }
  if (text === "") throw new AmountError("empty", "Amount is empty: enter e.g. 20.00");
  const quoted = quote(text);
  if (text.startsWith("-") && AMOUNT_PATTERN.test(text.slice(1))) {
    throw new AmountError("negative", `Amount must be positive: got ${quoted}`);
  }
  if (DECIMALS_PATTERN.test(text)) {
    throw new AmountError(
      "too_many_decimals",
      `Amount has more than two decimals: got ${quoted}`,
    );
  }
  const match = AMOUNT_PATTERN.exec(text);
  if (!match) {
    throw new AmountError(
      "malformed",
      `Amount is not a plain decimal like 20 or 20.50: got ${quoted}`,
    );
  }
  const [, integer, fraction = ""] = match;
  if (integer.length > INTEGER_DIGITS_MAX) throw overLimit(quoted);
  const cents = Number(integer) * 100 + Number(fraction.padEnd(2, "0"));
  if (cents === 0) throw new AmountError("zero", `Amount must be more than zero: got ${quoted}`);
  if (cents > AMOUNT_CENTS_MAX) throw overLimit(quoted);
  return cents;
}

/**
 * Formats cents as a decimal with exactly two fractional digits.
 *
 * @param cents A safe integer; negative values get a leading "-".
 * @returns The amount, e.g. "1234.50" or "-0.05".
 * @throws {RangeError} When cents is not a safe integer.
 *
 * @example Format a balance
 * ```ts
 * import { formatCents } from "./amount.ts";
 * if (formatCents(123450) !== "1234.50") throw new Error("expected 1234.50");
 * ```
 */
export function formatCents(cents: number): string {
  if (!Number.isSafeInteger(cents)) {
    throw new RangeError(`Cents must be a safe integer: got ${String(cents)}`);
  }
  const sign = cents < 0 ? "-" : "";
  const magnitude = Math.abs(cents);
  const whole = Math.floor(magnitude / 100);
  const fraction = String(magnitude % 100).padStart(2, "0");
  return `${sign}${whole}.${fraction}`;
}

function overLimit(quoted: string): AmountError {
  const limit = formatCents(AMOUNT_CENTS_MAX);
  return new AmountError("over_limit", `Amount is over the limit of ${limit}: got ${quoted}`);
}

function quote(text: string): string {
  const shown = text.length > QUOTED_CHARS_MAX ? `${text.slice(0, QUOTED_CHARS_MAX)}...` : text;
  return JSON.stringify(shown);
}
