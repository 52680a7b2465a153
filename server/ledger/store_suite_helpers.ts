/**
 * Helpers shared by the parts of the store suite: the fixture types, assertions and operation
 * builders.
 *
 * @module
 */

import type { PinHash } from "../auth/pin_hash.ts";
import { LedgerError, type LedgerErrorCode, type LedgerStore, type Operation } from "./store.ts";

/** A fresh store for one test, with a way to reach its data behind the store's back. */
export interface StoreFixture {
  store: LedgerStore;
  /** Runs raw SQL on the same data, to simulate corruption. */
  rawExec(sql: string): Promise<void>;
  /** Opens a second store on the same data, as a second bank server would. */
  openPeer(): Promise<LedgerStore>;
  /** Removes the data once the store is closed. */
  cleanup(): Promise<void>;
}

/** A stand-in PIN record: the ledger stores PIN hashes but never checks them. */
export const TEST_PIN: PinHash = {
  salt: new Uint8Array(16).fill(1),
  hash: new Uint8Array(32).fill(2),
  iterations: 200_000,
};

/** Lets a test body skip the invariant check after it corrupted the data on purpose. */
export interface TestContext {
  fixture: StoreFixture;
  skipInvariantCheck(): void;
}

/** Registers one test that runs against a fresh store. */
export type Register = (
  name: string,
  body: (store: LedgerStore, t: TestContext) => Promise<void>,
) => void;

/**
 * Fails with a message when the condition is false.
 *
 * @param condition What must hold.
 * @param message What went wrong.
 */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/**
 * Fails unless two values are strictly equal.
 *
 * @param actual What the code produced.
 * @param expected What it should have produced.
 * @param label What is compared.
 */
export function assertEquals<T>(actual: T, expected: T, label: string): void {
  const same = JSON.stringify(actual) === JSON.stringify(expected);
  assert(same, `${label}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/**
 * Fails unless the promise rejects with a LedgerError of the given code.
 *
 * @param promise The call.
 * @param code The expected code.
 */
export async function assertLedgerError(promise: Promise<unknown>, code: LedgerErrorCode) {
  try {
    await promise;
  } catch (error) {
    assert(error instanceof LedgerError, `expected LedgerError ${code}, got ${String(error)}`);
    assertEquals(error.code, code, "LedgerError code");
    return;
  }
  throw new Error(`expected LedgerError ${code}, but the call succeeded`);
}

let requestCounter = 0;

/**
 * Builds a deposit or withdrawal with a fresh request id.
 *
 * @param kind Deposit or withdraw.
 * @param fields Customer, amount and optionally request id and ATM.
 * @returns The operation.
 */
export function cashOp(
  kind: "deposit" | "withdraw",
  fields: { customerId: number; amountCents: number; requestId?: string; atmId?: string },
): Operation {
  return {
    kind,
    requestId: fields.requestId ?? `req-${++requestCounter}-${crypto.randomUUID()}`,
    atmId: fields.atmId ?? "atm-1",
    customerId: fields.customerId,
    amountCents: fields.amountCents,
  };
}

/**
 * Builds a transfer with a fresh request id.
 *
 * @param fields Sender, recipient name, amount and optionally request id.
 * @returns The operation.
 */
export function transferOp(
  fields: { customerId: number; toName: string; amountCents: number; requestId?: string },
): Extract<Operation, { kind: "transfer" }> {
  return {
    kind: "transfer",
    requestId: fields.requestId ?? `req-${++requestCounter}-${crypto.randomUUID()}`,
    atmId: "atm-1",
    customerId: fields.customerId,
    toName: fields.toName,
    amountCents: fields.amountCents,
  };
}

/**
 * Adds a customer with the test PIN.
 *
 * @param store The store.
 * @param name The name.
 * @param openingCents The opening balance.
 * @returns The customer's id.
 */
export async function addTestCustomer(store: LedgerStore, name: string, openingCents: number) {
  return (await store.addCustomer({ name, pin: TEST_PIN, openingCents })).id;
}
