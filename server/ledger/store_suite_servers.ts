/**
 * The store suite's tests for several bank servers on one ledger: which server committed each
 * entry, and the bank key check that keeps a server with another bank key out.
 *
 * @module
 */

import {
  addTestCustomer,
  assertEquals,
  assertLedgerError,
  cashOp,
  type Register,
} from "./store_suite_helpers.ts";

/**
 * Registers the tests.
 *
 * @param test The suite's register function.
 */
export function registerServerTests(test: Register): void {
  test("journalAfter() with committedBy keeps that server's entries and those of no server", async (store) => {
    const alice = await addTestCustomer(store, "alice", 1_000);
    const [first] = await store.applyBatch([
      { ...cashOp("deposit", { customerId: alice, amountCents: 10 }), serverId: "bank-a" },
    ]);
    const fromB = {
      ...cashOp("withdraw", { customerId: alice, amountCents: 20 }),
      serverId: "bank-b",
    };
    await store.applyBatch([fromB]);
    const all = await store.journalAfter(0, 10);
    assertEquals(all.map((entry) => entry.serverId), [null, "bank-a", "bank-b"], "every entry");
    const ofA = await store.journalAfter(0, 10, "bank-a");
    assertEquals(ofA.map((entry) => entry.kind), ["opening", "deposit"], "bank-a's view");
    const ofB = await store.journalAfter(0, 10, "bank-b");
    assertEquals(ofB.map((entry) => entry.kind), ["opening", "withdraw"], "bank-b's view");
    assertEquals(await store.journalAfter(0, 10, "bank-c"), [all[0]], "a server with no entries");
    if (!first.ok) throw new Error("deposit refused");
    await assertLedgerError(store.journalAfter(0, 10, ""), "invalid_argument");
  });

  test("applyBatch() keeps the first server of an entry when a retry lands on another", async (store) => {
    const alice = await addTestCustomer(store, "alice", 1_000);
    const op = cashOp("withdraw", { customerId: alice, amountCents: 300 });
    const [applied] = await store.applyBatch([{ ...op, serverId: "bank-a" }]);
    const [retried] = await store.applyBatch([{ ...op, serverId: "bank-b" }]);
    assertEquals(retried, { ...applied, replayed: true }, "the retry's answer");
    const entries = await store.journalAfter(0, 10, "bank-a");
    assertEquals(entries.map((entry) => entry.serverId), [null, "bank-a"], "attribution");
    assertEquals(await store.balance(alice), 700, "applied once");
  });

  test("applyBatch() refuses a malformed server id and applies nothing", async (store) => {
    const alice = await addTestCustomer(store, "alice", 0);
    const good = cashOp("deposit", { customerId: alice, amountCents: 5 });
    const bad = { ...cashOp("deposit", { customerId: alice, amountCents: 5 }), serverId: "" };
    await assertLedgerError(store.applyBatch([good, bad]), "invalid_argument");
    assertEquals(await store.balance(alice), 0, "nothing applied");
  });

  test(
    "claimBankKeyCheck() keeps the first value for every caller and every peer",
    async (store, t) => {
      assertEquals(await store.claimBankKeyCheck("check-one"), "check-one", "first claim");
      assertEquals(await store.claimBankKeyCheck("check-two"), "check-one", "second claim");
      const peer = await t.fixture.openPeer();
      try {
        assertEquals(await peer.claimBankKeyCheck("check-three"), "check-one", "a peer's claim");
      } finally {
        await peer.close();
      }
      await assertLedgerError(store.claimBankKeyCheck(""), "invalid_argument");
      await assertLedgerError(store.claimBankKeyCheck("x".repeat(129)), "invalid_argument");
    },
  );

  test("claimBankKeyCheck() lets exactly one of several racing peers win", async (store, t) => {
    const peers = [store, await t.fixture.openPeer(), await t.fixture.openPeer()];
    try {
      const claims = await Promise.all(
        peers.map((peer, i) => peer.claimBankKeyCheck(`check-${i}`)),
      );
      assertEquals(new Set(claims).size, 1, `one winner among ${JSON.stringify(claims)}`);
    } finally {
      await Promise.all(peers.slice(1).map((peer) => peer.close()));
    }
  });
}
