/**
 * The few assertions the ATM tests need (`@std/assert` is not available offline).
 * Test-only: nothing outside `*_test.ts` imports this file.
 *
 * @module
 */

import { deepStrictEqual } from "node:assert/strict";

/** Thrown when an assertion fails. */
export class AssertionError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

/**
 * Fails unless `actual` and `expected` are deeply equal.
 *
 * @param actual The value produced.
 * @param expected The value wanted.
 * @param label Context shown on failure.
 */
export function assertEquals<T>(actual: T, expected: T, label = ""): void {
  try {
    deepStrictEqual(actual, expected);
  } catch {
    const show = (value: unknown) => JSON.stringify(value) ?? String(value);
    throw new AssertionError(
      `${label ? `${label}: ` : ""}expected ${show(expected)}, got ${show(actual)}`,
    );
  }
}

/**
 * Fails unless `condition` is true.
 *
 * @param condition What must hold.
 * @param message Shown on failure.
 */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/**
 * Fails unless `text` contains `part`.
 *
 * @param text The text produced.
 * @param part What it must contain.
 */
export function assertIncludes(text: string, part: string): void {
  if (!text.includes(part)) {
    throw new AssertionError(
      `expected text to contain ${JSON.stringify(part)}, got ${JSON.stringify(text)}`,
    );
  }
}

/**
 * Fails unless `run` throws an instance of `type`; returns the error.
 *
 * @param run The code that must throw.
 * @param type The expected error class.
 * @returns The error thrown.
 */
export function assertThrows<E extends Error>(
  run: () => unknown,
  // deno-lint-ignore no-explicit-any -- any error class constructor
  type: new (...args: any[]) => E,
): E {
  try {
    run();
  } catch (error) {
    if (error instanceof type) return error;
    throw new AssertionError(`expected ${type.name}, got ${String(error)}`);
  }
  throw new AssertionError(`expected ${type.name}, nothing was thrown`);
}

/**
 * Fails unless the promise rejects with an instance of `type`; returns the error.
 *
 * @param promise The operation that must fail.
 * @param type The expected error class.
 * @returns The error.
 */
export async function assertRejects<E extends Error>(
  promise: Promise<unknown>,
  // deno-lint-ignore no-explicit-any -- any error class constructor
  type: new (...args: any[]) => E,
): Promise<E> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof type) return error;
    throw new AssertionError(`expected ${type.name}, got ${String(error)}`);
  }
  throw new AssertionError(`expected ${type.name}, the promise resolved`);
}
