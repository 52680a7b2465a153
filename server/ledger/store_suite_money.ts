/**
 * The money part of the shared store suite: deposits, withdrawals, transfers, refusals, and
 * retried request ids.
 *
 * @module
 */

import { BALANCE_CENTS_MAX } from "../../lib/amount.ts";
import type { LedgerErrorCode, Operation } from "./store.ts";
import {
  addTestCustomer,
  assert,
  assertEquals,
  assertLedgerError,
  cashOp,
  type Register,
  transferOp,
} from "./store_suite_helpers.ts";

/** Registers the money tests.
 *
 * @param test The suite's registration function.
 */
export function registerMoneyTests(test: Register): void {
  test("applyBatch() deposits, withdraws and transfers", async (store) => {
    const alice = await addTestCustomer(store, "alice", 10_000);
    const bob = await addTestCustomer(store, "bob", 500);
    const [deposit, withdraw, transfer] = await store.applyBatch([
      cashOp("deposit", { customerId: alice, amountCents: 2_550 }),
      cashOp("withdraw", { customerId: alice, amountCents: 1_000 }),
      transferOp({ customerId: alice, toName: "bob", amountCents: 4_000 }),
    ]);
    assert(deposit.ok && withdraw.ok && transfer.ok, "all succeed");
    assertEquals(deposit.balanceCents, 12_550, "after deposit");
    assertEquals(withdraw.balanceCents, 11_550, "after withdrawal");
    assertEquals(transfer.balanceCents, 7_550, "after transfer");
    assert(deposit.entryId < withdraw.entryId && withdraw.entryId < transfer.entryId, "ids grow");
    assertEquals(
      [deposit.replayed, withdraw.replayed, transfer.replayed],
      [false, false, false],
      "fresh",
    );
    assertEquals(await store.balance(alice), 7_550, "alice");
    assertEquals(await store.balance(bob), 4_500, "bob");
  });

  test("applyBatch() refuses a withdrawal over the balance, never overdrawing", async (store) => {
    const alice = await addTestCustomer(store, "alice", 1_000);
    const [tooMuch] = await store.applyBatch([
      cashOp("withdraw", { customerId: alice, amountCents: 1_001 }),
    ]);
    assertEquals(tooMuch, { ok: false, reason: "insufficient_funds", replayed: false }, "refusal");
    const [all] = await store.applyBatch([
      cashOp("withdraw", { customerId: alice, amountCents: 1_000 }),
    ]);
    assert(all.ok && all.balanceCents === 0, "withdrawing everything is allowed");
    const bob = await addTestCustomer(store, "bob", 0);
    const [transfer] = await store.applyBatch([
      transferOp({ customerId: alice, toName: "bob", amountCents: 1 }),
    ]);
    assertEquals(
      transfer,
      { ok: false, reason: "insufficient_funds", replayed: false },
      "transfer",
    );
    assertEquals([await store.balance(alice), await store.balance(bob)], [0, 0], "balances");
  });

  test("applyBatch() refuses transfers to an unknown recipient or the same account", async (store) => {
    const alice = await addTestCustomer(store, "alice", 1_000);
    for (const toName of ["nobody", "Alice", "bank:cash", "bank:opening", ""]) {
      const [result] = await store.applyBatch([
        transferOp({ customerId: alice, toName, amountCents: 1 }),
      ]);
      assertEquals(result, { ok: false, reason: "unknown_recipient", replayed: false }, toName);
    }
    const [self] = await store.applyBatch([
      transferOp({ customerId: alice, toName: "alice", amountCents: 1 }),
    ]);
    assertEquals(self, { ok: false, reason: "same_account", replayed: false }, "same account");
    assertEquals(await store.balance(alice), 1_000, "balance");
  });

  test("applyBatch() refuses money that would push a balance over the limit", async (store) => {
    const rich = await addTestCustomer(store, "rich", BALANCE_CENTS_MAX);
    const alice = await addTestCustomer(store, "alice", 1_000);
    const [deposit] = await store.applyBatch([
      cashOp("deposit", { customerId: rich, amountCents: 1 }),
    ]);
    assertEquals(deposit, { ok: false, reason: "balance_limit", replayed: false }, "deposit");
    const [transfer] = await store.applyBatch([
      transferOp({ customerId: alice, toName: "rich", amountCents: 1 }),
    ]);
    assertEquals(transfer, { ok: false, reason: "balance_limit", replayed: false }, "transfer");
    assertEquals(await store.balance(alice), 1_000, "the sender's debit was undone");
    assertEquals(await store.balance(rich), BALANCE_CENTS_MAX, "rich");
  });

  test("applyBatch() keeps the other operations of a batch when one is refused", async (store) => {
    const alice = await addTestCustomer(store, "alice", 1_000);
    const results = await store.applyBatch([
      cashOp("withdraw", { customerId: alice, amountCents: 300 }),
      cashOp("withdraw", { customerId: alice, amountCents: 5_000 }),
      cashOp("withdraw", { customerId: alice, amountCents: 700 }),
    ]);
    assertEquals(results.map((r) => r.ok), [true, false, true], "outcomes");
    assertEquals(await store.balance(alice), 0, "balance");
  });

  test("applyBatch() rejects a malformed operation and applies nothing of its batch", async (store) => {
    const alice = await addTestCustomer(store, "alice", 1_000);
    const good = cashOp("withdraw", { customerId: alice, amountCents: 100 });
    const bad: [Operation, LedgerErrorCode][] = [
      [cashOp("deposit", { customerId: alice, amountCents: 0 }), "invalid_amount"],
      [cashOp("deposit", { customerId: alice, amountCents: 100_000_001 }), "invalid_amount"],
      [cashOp("deposit", { customerId: alice, amountCents: 1.5 }), "invalid_amount"],
      [
        cashOp("deposit", { customerId: alice, amountCents: 100, requestId: "" }),
        "invalid_argument",
      ],
      [
        cashOp("deposit", { customerId: alice, amountCents: 100, atmId: "no spaces" }),
        "invalid_name",
      ],
      [cashOp("deposit", { customerId: -1, amountCents: 100 }), "invalid_argument"],
      [{ ...good, kind: "steal" as "deposit" }, "invalid_argument"],
    ];
    for (const [op, code] of bad) await assertLedgerError(store.applyBatch([good, op]), code);
    await assertLedgerError(
      store.applyBatch([good, cashOp("deposit", { customerId: alice + 1000, amountCents: 1 })]),
      "unknown_customer",
    );
    assertEquals(await store.balance(alice), 1_000, "nothing applied");
    const [later] = await store.applyBatch([good]);
    assert(later.ok && !later.replayed, "the good operation was never stored");
  });
}

/** Registers the retry tests.
 *
 * @param test The suite's registration function.
 */
export function registerRetryTests(test: Register): void {
  test("applyBatch() applies a retried request id once and replays its answer", async (store) => {
    const alice = await addTestCustomer(store, "alice", 1_000);
    const op = cashOp("withdraw", { customerId: alice, amountCents: 250 });
    const [first] = await store.applyBatch([op]);
    const [again] = await store.applyBatch([op]);
    const [inBatch, twice] = await store.applyBatch([op, op]);
    assert(first.ok && !first.replayed, "first applied");
    for (const retry of [again, inBatch, twice]) {
      assertEquals(retry, { ...first, replayed: true }, "retry");
    }
    const op2 = cashOp("deposit", { customerId: alice, amountCents: 10 });
    const [a, b] = await store.applyBatch([op2, op2]);
    assertEquals(b, { ...a, replayed: true }, "retry in the same batch as the first");
    assertEquals(await store.balance(alice), 760, "applied once each");
    assertEquals((await store.journalAfter(0, 100)).length, 3, "opening + two entries");
  });

  test("applyBatch() stores a refusal and replays it even after funds arrive", async (store) => {
    const alice = await addTestCustomer(store, "alice", 100);
    const op = cashOp("withdraw", { customerId: alice, amountCents: 500 });
    const [refused] = await store.applyBatch([op]);
    assertEquals(refused, { ok: false, reason: "insufficient_funds", replayed: false }, "first");
    await store.applyBatch([cashOp("deposit", { customerId: alice, amountCents: 1_000 })]);
    const [retry] = await store.applyBatch([op]);
    assertEquals(retry, { ok: false, reason: "insufficient_funds", replayed: true }, "replayed");
    assertEquals(await store.balance(alice), 1_100, "never applied");
  });

  test("applyBatch() refuses a request id reused for anything different", async (store) => {
    const alice = await addTestCustomer(store, "alice", 1_000);
    const bob = await addTestCustomer(store, "bob", 1_000);
    await addTestCustomer(store, "carol", 0);
    const requestId = "shared-id";
    const original = transferOp({ customerId: alice, toName: "bob", amountCents: 100, requestId });
    const [first] = await store.applyBatch([original]);
    assert(first.ok, "original applied");
    const variants: Operation[] = [
      { ...original, customerId: bob, toName: "alice" },
      { ...original, toName: "carol" },
      { ...original, amountCents: 101 },
      { ...original, atmId: "atm-2" },
      cashOp("withdraw", { customerId: alice, amountCents: 100, requestId }),
      cashOp("deposit", { customerId: bob, amountCents: 100, requestId }),
    ];
    for (const variant of variants) {
      const [result] = await store.applyBatch([variant]);
      assertEquals(
        result,
        { ok: false, reason: "request_conflict", replayed: false },
        JSON.stringify(variant),
      );
    }
    const [retry] = await store.applyBatch([original]);
    assertEquals(retry, { ...first, replayed: true }, "the original is still answered");
    assertEquals([await store.balance(alice), await store.balance(bob)], [900, 1_100], "balances");
  });
}
