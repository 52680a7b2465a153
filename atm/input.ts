/**
 * Checks of what a customer types, done before anything is sent so that mistakes get a clear
 * answer at once. The bank checks everything again.
 *
 * @module
 */

import { formatCents, parseAmount } from "../lib/amount.ts";
import { PIN_CHARS_MAX, USER_CHARS_MAX } from "../lib/messages.ts";
import { UsageError } from "./errors.ts";

/**
 * Validates an amount and returns it in the bank's canonical form.
 *
 * @param text What the customer typed, e.g. `12.5`; surrounding spaces are ignored.
 * @returns The amount as the bank writes it, e.g. `12.50`.
 * @throws {AmountError} When the text is not a positive amount within the limit.
 */
export function normalizeAmount(text: string): string {
  return formatCents(parseAmount(text.trim()));
}

/**
 * Validates a customer name as typed.
 *
 * @param text The name.
 * @param label What the name is, for the message: `User name` or `Recipient`.
 * @returns The name without surrounding spaces.
 * @throws {UsageError} With code `bad_input` when empty, too long or containing control characters.
 */
export function normalizeUser(text: string, label = "User name"): string {
  const name = text.trim();
  if (name === "") throw new UsageError("bad_input", `${label} must not be empty`);
  if (name.length > USER_CHARS_MAX) {
    throw new UsageError("bad_input", `${label} must be at most ${USER_CHARS_MAX} characters`);
  }
  if (/\p{Cc}/u.test(name)) {
    throw new UsageError("bad_input", `${label} must not contain control characters`);
  }
  return name;
}

/**
 * Checks that a PIN can be sent at all; whether it is right is for the bank to say.
 * The message never repeats the PIN.
 *
 * @param pin The PIN as typed.
 * @returns The PIN unchanged.
 * @throws {UsageError} With code `bad_input` when empty or longer than the wire allows.
 */
export function checkPin(pin: string): string {
  if (pin === "") throw new UsageError("bad_input", "PIN must not be empty");
  if (pin.length > PIN_CHARS_MAX) {
    throw new UsageError("bad_input", `PIN must be at most ${PIN_CHARS_MAX} characters`);
  }
  return pin;
}

/**
 * Turns a throwing check into a prompt validator.
 *
 * @param check A function that throws a descriptive error for bad input.
 * @returns A validator giving the error message, or undefined when the input passes.
 */
export function validatorOf(
  check: (text: string) => unknown,
): (text: string) => string | undefined {
  return (text) => {
    try {
      check(text);
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : "Invalid input";
    }
  };
}
