/**
 * The concurrency part of the shared store suite: many operations in flight at once against the
 * same accounts, on one store and on two stores sharing the same data (two bank servers).
 * Every load here is a fixed number of operations.
 *
 * @module
 */

import type { LedgerStore, OperationResult } from "./store.ts";
import {
  addTestCustomer,
  assert,
  assertEquals,
  cashOp,
  type Register,
  transferOp,
} from "./store_suite_helpers.ts";

/** Withdrawals fired at once against one account. */
const CONCURRENT_WITHDRAWALS = 50;

/** Transfers fired at once, half in each direction between the same two accounts. */
const CONCURRENT_TRANSFERS = 60;

/**
 * Registers the concurrency tests.
 *
 * @param test The suite's registration function.
 */
export function registerConcurrencyTests(test: Register): void {
  test("50 concurrent withdrawals against one account never overdraw", async (store) => {
    const alice = await addTestCustomer(store, "alice", 1_000);
    const results = await Promise.all(
      Array.from(
        { length: CONCURRENT_WITHDRAWALS },
        () => store.applyBatch([cashOp("withdraw", { customerId: alice, amountCents: 30 })]),
      ),
    );
    const flat = results.flat();
    const ok = flat.filter((result) => result.ok).length;
    assertEquals(ok, 33, "withdrawals that fit in 10.00");
    assert(
      flat.every((result) => result.ok || result.reason === "insufficient_funds"),
      "only insufficient_funds refusals",
    );
    assertEquals(await store.balance(alice), 10, "what is left");
  });

  test("concurrent transfers both ways conserve money without deadlock", async (store) => {
    const alice = await addTestCustomer(store, "alice", 5_000);
    const bob = await addTestCustomer(store, "bob", 5_000);
    const ops = Array.from(
      { length: CONCURRENT_TRANSFERS },
      (_, i) =>
        i % 2 === 0
          ? transferOp({ customerId: alice, toName: "bob", amountCents: (i % 7 + 1) * 300 })
          : transferOp({ customerId: bob, toName: "alice", amountCents: (i % 5 + 1) * 400 }),
    );
    // Mix single-operation batches with batches of several, as group commit produces.
    const batches = [ops.slice(0, 10), ops.slice(10, 13), ...ops.slice(13).map((op) => [op])];
    const results = (await Promise.all(batches.map((batch) => store.applyBatch(batch)))).flat();
    let aliceExpected = 5_000;
    ops.forEach((op, i) => {
      const result = results[i];
      assert(
        result.ok || result.reason === "insufficient_funds",
        `unexpected ${JSON.stringify(result)}`,
      );
      if (result.ok) aliceExpected += op.customerId === alice ? -op.amountCents : op.amountCents;
    });
    const [a, b] = [await store.balance(alice), await store.balance(bob)];
    assertEquals(a + b, 10_000, "money is conserved");
    assertEquals(a, aliceExpected, "alice's balance follows the successful transfers");
    assert(results.some((result) => result.ok), "some transfers went through");
  });

  test("the same request sent 20 times at once is applied once", async (store) => {
    const alice = await addTestCustomer(store, "alice", 1_000);
    const op = cashOp("withdraw", { customerId: alice, amountCents: 100 });
    const results = (await Promise.all(
      Array.from({ length: 20 }, () => store.applyBatch([op])),
    )).flat();
    assertEquals(results.filter((result) => !result.replayed).length, 1, "applied once");
    const first = results.find((result) => !result.replayed) as OperationResult;
    for (const result of results) {
      assertEquals(result, { ...first, replayed: result.replayed }, "same answer");
    }
    assertEquals(await store.balance(alice), 900, "balance");
  });

  test("two servers on the same data never overdraw and apply a retry once", async (store, t) => {
    const peer = await t.fixture.openPeer();
    try {
      await checkTwoServers(store, peer);
    } finally {
      await peer.close();
    }
  });
}

async function checkTwoServers(store: LedgerStore, peer: LedgerStore): Promise<void> {
  const alice = await addTestCustomer(store, "alice", 1_000);
  const servers = [store, peer];
  const results = (await Promise.all(
    Array.from(
      { length: 40 },
      (_, i) =>
        servers[i % 2].applyBatch([cashOp("withdraw", { customerId: alice, amountCents: 70 })]),
    ),
  )).flat();
  assertEquals(results.filter((result) => result.ok).length, 14, "withdrawals that fit");
  assertEquals(await peer.balance(alice), 20, "balance seen by the peer");

  const retried = cashOp("deposit", { customerId: alice, amountCents: 500 });
  const [onFirst, onPeer] = await Promise.all([
    store.applyBatch([retried]),
    peer.applyBatch([retried]),
  ]);
  assertEquals(
    [onFirst[0].replayed, onPeer[0].replayed].sort(),
    [false, true],
    "one applied, one replayed",
  );
  assertEquals(await store.balance(alice), 520, "the retry was applied once");
  const peerReport = await peer.checkInvariants();
  assert(peerReport.ok, `peer invariants: ${peerReport.problems.join("; ")}`);
}
