/**
 * The read part of the shared store suite (statements, journal, audit heads, listings) and the
 * tests that corrupt data on purpose to prove checkInvariants() can fail.
 *
 * @module
 */

import {
  addTestCustomer,
  assert,
  assertEquals,
  assertLedgerError,
  cashOp,
  type Register,
  transferOp,
} from "./store_suite_helpers.ts";

/** Registers the read tests.
 *
 * @param test The suite's registration function.
 */
export function registerReadTests(test: Register): void {
  test("history() lists the last 10 entries newest first, signed, with counterparties", async (store) => {
    const alice = await addTestCustomer(store, "alice", 10_000);
    const bob = await addTestCustomer(store, "bob", 0);
    for (let i = 1; i <= 5; i++) {
      await store.applyBatch([cashOp("deposit", { customerId: alice, amountCents: i * 100 })]);
    }
    await store.applyBatch([cashOp("withdraw", { customerId: alice, amountCents: 50 })]);
    await store.applyBatch([transferOp({ customerId: alice, toName: "bob", amountCents: 700 })]);
    await store.applyBatch([transferOp({ customerId: bob, toName: "alice", amountCents: 200 })]);
    for (let i = 0; i < 3; i++) {
      await store.applyBatch([cashOp("withdraw", { customerId: alice, amountCents: 10 })]);
    }
    const items = await store.history(alice, 10);
    assertEquals(items.length, 10, "last 10 of 12");
    const lines = items.map((item) => `${item.kind} ${item.amountCents} ${item.counterparty}`);
    assertEquals(lines, [
      "withdraw -10 null",
      "withdraw -10 null",
      "withdraw -10 null",
      "transfer_in 200 bob",
      "transfer_out -700 bob",
      "withdraw -50 null",
      "deposit 500 null",
      "deposit 400 null",
      "deposit 300 null",
      "deposit 200 null",
    ], "newest first, signed, with counterparties");
    assertEquals(items[0].balanceAfterCents, await store.balance(alice), "newest balance");
    for (let i = 0; i < items.length - 1; i++) {
      assert(items[i].entryId > items[i + 1].entryId, "newest first");
      const before = items[i].balanceAfterCents - items[i].amountCents;
      assertEquals(before, items[i + 1].balanceAfterCents, `running balance at ${i}`);
      assert(!Number.isNaN(Date.parse(items[i].at)), "ISO time");
    }
    const bobs = await store.history(bob, 10);
    assertEquals(
      bobs.map((item) => [item.kind, item.amountCents, item.counterparty, item.balanceAfterCents]),
      [
        ["transfer_out", -200, "alice", 500],
        ["transfer_in", 700, "alice", 700],
      ],
      "bob's statement",
    );
    await assertLedgerError(store.history(alice, 0), "invalid_argument");
  });

  test("journalAfter() pages through entries oldest first", async (store) => {
    const alice = await addTestCustomer(store, "alice", 1_000);
    await addTestCustomer(store, "bob", 0);
    const transfer = transferOp({ customerId: alice, toName: "bob", amountCents: 300 });
    await store.applyBatch([
      cashOp("deposit", { customerId: alice, amountCents: 50, atmId: "atm-7" }),
      transfer,
    ]);
    const firstPage = await store.journalAfter(0, 2);
    const secondPage = await store.journalAfter(firstPage[1].entryId, 2);
    assertEquals(firstPage.map((entry) => entry.kind), ["opening", "deposit"], "first page");
    assertEquals(firstPage[1].atmId, "atm-7", "ATM id");
    assertEquals(secondPage.length, 1, "second page");
    const [entry] = secondPage;
    assertEquals(
      [
        entry.kind,
        entry.requestId,
        entry.customer,
        entry.counterparty,
        entry.amountCents,
        entry.balanceAfterCents,
      ],
      ["transfer", transfer.requestId, "alice", "bob", 300, 750],
      "transfer entry",
    );
    assertEquals(await store.journalAfter(entry.entryId, 2), [], "nothing after the last");
  });

  test("auditHead() round-trips what setAuditHead() stored, per server", async (store) => {
    assertEquals(await store.auditHead("bank-1"), undefined, "nothing yet");
    await store.setAuditHead({ serverId: "bank-1", seq: 7, mac: "aa11" });
    await store.setAuditHead({ serverId: "bank-2", seq: 1, mac: "bb22" });
    assertEquals(
      await store.auditHead("bank-1"),
      { serverId: "bank-1", seq: 7, mac: "aa11" },
      "bank-1",
    );
    await store.setAuditHead({ serverId: "bank-1", seq: 8, mac: "cc33" });
    assertEquals(
      await store.auditHead("bank-1"),
      { serverId: "bank-1", seq: 8, mac: "cc33" },
      "replaced",
    );
    assertEquals(
      await store.auditHead("bank-2"),
      { serverId: "bank-2", seq: 1, mac: "bb22" },
      "bank-2",
    );
    await assertLedgerError(
      store.setAuditHead({ serverId: "", seq: 1, mac: "x" }),
      "invalid_argument",
    );
  });

  test("setAuditHead() never moves a server's head back", async (store) => {
    await store.setAuditHead({ serverId: "bank-1", seq: 8, mac: "cc33" });
    await store.setAuditHead({ serverId: "bank-1", seq: 7, mac: "aa11" });
    await store.setAuditHead({ serverId: "bank-1", seq: 8, mac: "dd44" });
    assertEquals(
      await store.auditHead("bank-1"),
      { serverId: "bank-1", seq: 8, mac: "cc33" },
      "an older or equal head is ignored",
    );
    // started together, as flushes that finish together store their heads
    const racingHeads = 20;
    const heads = Array.from({ length: racingHeads }, (_, i) => ({
      serverId: "bank-2",
      seq: i + 1,
      mac: `m${i + 1}`,
    }));
    await Promise.all(heads.map((head) => store.setAuditHead(head)));
    assertEquals(await store.auditHead("bank-2"), heads.at(-1), "the newest head wins");
  });

  test("listCustomers() and totals() report customers, money held and recent entries", async (store) => {
    const before = new Date(Date.now() - 1_000).toISOString();
    await addTestCustomer(store, "carol", 300);
    const alice = await addTestCustomer(store, "alice", 100);
    await addTestCustomer(store, "bob", 0);
    await store.applyBatch([cashOp("deposit", { customerId: alice, amountCents: 50 })]);
    const list = await store.listCustomers();
    assertEquals(list.map((c) => [c.name, c.balanceCents, c.lockedUntil]), [
      ["alice", 150, null],
      ["bob", 0, null],
      ["carol", 300, null],
    ], "customers by name");
    assertEquals(
      await store.totals(before),
      { customers: 3, heldCents: 450, entriesSince: 3 },
      "since before",
    );
    const future = new Date(Date.now() + 3_600_000).toISOString();
    assertEquals((await store.totals(future)).entriesSince, 0, "since the future");
    await assertLedgerError(store.totals("yesterday-ish"), "invalid_argument");
  });

  test("calls after close() fail with closed", async (store, t) => {
    await store.close();
    await assertLedgerError(store.balance(1), "closed");
    await assertLedgerError(store.applyBatch([]), "closed");
    t.skipInvariantCheck();
  });
}

/** Registers the tamper tests.
 *
 * @param test The suite's registration function.
 */
export function registerTamperTests(test: Register): void {
  test("checkInvariants() reports a balance that disagrees with its postings", async (store, t) => {
    await addTestCustomer(store, "alice", 1_000);
    await t.fixture.rawExec(
      "UPDATE accounts SET balance_cents = balance_cents + 1 WHERE name = 'alice'",
    );
    const report = await store.checkInvariants();
    assert(!report.ok, "tampering not detected");
    assert(report.problems.some((p) => p.includes("alice")), `problems: ${report.problems}`);
    t.skipInvariantCheck();
  });

  test("checkInvariants() reports an entry whose postings do not sum to zero", async (store, t) => {
    const alice = await addTestCustomer(store, "alice", 1_000);
    const [deposit] = await store.applyBatch([
      cashOp("deposit", { customerId: alice, amountCents: 5 }),
    ]);
    assert(deposit.ok, "deposit");
    await t.fixture.rawExec(
      `UPDATE postings SET amount_cents = amount_cents + 1 WHERE entry_id = ${deposit.entryId} ` +
        `AND balance_after_cents IS NULL`,
    );
    const report = await store.checkInvariants();
    assert(
      report.problems.some((p) => p.startsWith(`entry ${deposit.entryId}:`)),
      `problems: ${report.problems}`,
    );
    t.skipInvariantCheck();
  });
}
