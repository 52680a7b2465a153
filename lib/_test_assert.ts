/**
 * Minimal assertions for this folder's tests (`@std/assert` is not available offline).
 *
 * @module
 */

/** Thrown when a test assertion does not hold. */
export class AssertionError extends Error {
  /**
   * Creates the error.
   *
   * @param message What did not hold.
   */
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

/**
 * Asserts that a condition holds.
 *
 * @param condition The condition.
 * @param message What was expected.
 */
export function assert(condition: unknown, message = "Assertion failed"): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/**
 * Asserts that two values are equal by their JSON form (enough for strings, numbers, plain data).
 *
 * @param actual The value produced.
 * @param expected The value wanted.
 * @param message Context for the failure.
 */
export function assertEquals(actual: unknown, expected: unknown, message = ""): void {
  const a = JSON.stringify(actual, jsonBigint);
  const e = JSON.stringify(expected, jsonBigint);
  if (a !== e) throw new AssertionError(`${message ? message + ": " : ""}expected ${e}, got ${a}`);
}

function jsonBigint(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Uint8Array) return Array.from(value);
  return value;
}

/**
 * Asserts that a promise rejects, or a function throws or returns a promise that rejects, with an
 * instance of a class, optionally with a given `code`.
 *
 * @param promise The promise, or a function to call.
 * @param type The expected error class.
 * @param code The expected `code` property, if the class has one.
 * @returns The error, for further checks.
 */
export async function assertRejects<E extends Error>(
  promise: Promise<unknown> | (() => unknown),
  type: abstract new (...args: never[]) => E,
  code?: string,
): Promise<E> {
  let caught: unknown;
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    caught = error;
  }
  if (caught === undefined) throw new AssertionError(`expected a ${type.name}, nothing thrown`);
  if (!(caught instanceof type)) {
    throw new AssertionError(`expected a ${type.name}, got ${String(caught)}`);
  }
  const actualCode = (caught as unknown as { code?: unknown }).code;
  if (code !== undefined && actualCode !== code) {
    throw new AssertionError(`expected code ${code}, got ${String(actualCode)}: ${caught.message}`);
  }
  return caught;
}

/**
 * Asserts that a function throws synchronously with an instance of a class.
 *
 * @param fn The function.
 * @param type The expected error class.
 * @returns The error.
 */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  type: abstract new (...args: never[]) => E,
): E {
  try {
    fn();
  } catch (error) {
    if (error instanceof type) return error;
    throw new AssertionError(`expected a ${type.name}, got ${String(error)}`);
  }
  throw new AssertionError(`expected a ${type.name}, nothing thrown`);
}
