/**
 * One test suite for every LedgerStore implementation. `sqlite_store_test.ts` and
 * `postgres_store_test.ts` register it with a factory that opens a fresh, empty store per test.
 * After every test (except those that tamper with the data on purpose) checkInvariants() must
 * report no problem.
 *
 * @module
 */

import { BALANCE_CENTS_MAX } from "../../lib/amount.ts";
import { registerConcurrencyTests } from "./store_suite_concurrency.ts";
import {
  addTestCustomer,
  assert,
  assertEquals,
  assertLedgerError,
  type Register,
  type StoreFixture,
  TEST_PIN,
} from "./store_suite_helpers.ts";
import { registerMoneyTests, registerRetryTests } from "./store_suite_money.ts";
import { registerReadTests, registerTamperTests } from "./store_suite_reads.ts";
import { registerServerTests } from "./store_suite_servers.ts";
import { WRAPPED_KEY_BYTES_MAX } from "./rules.ts";

export type { StoreFixture };

/** How the suite gets stores. */
export interface StoreSuiteOptions {
  /** Prefix of every test name, e.g. "SqliteStore". */
  label: string;
  /** Opens a fresh, empty store. */
  open: () => Promise<StoreFixture>;
  /** Skip every test (e.g. no PostgreSQL reachable). */
  ignore?: boolean;
}

/**
 * Registers the whole suite.
 *
 * @param options How to open stores.
 */
export function registerStoreSuite(options: StoreSuiteOptions): void {
  const register: Register = (name, body) => {
    Deno.test({
      name: `${options.label}: ${name}`,
      ignore: options.ignore === true,
      fn: async () => {
        const fixture = await options.open();
        let check = true;
        try {
          await body(fixture.store, { fixture, skipInvariantCheck: () => check = false });
          if (check) {
            const report = await fixture.store.checkInvariants();
            assert(report.ok, `invariants broken: ${report.problems.join("; ")}`);
          }
        } finally {
          await fixture.store.close();
          await fixture.cleanup();
        }
      },
    });
  };
  registerCustomerTests(register);
  registerMoneyTests(register);
  registerRetryTests(register);
  registerConcurrencyTests(register);
  registerReadTests(register);
  registerTamperTests(register);
  registerServerTests(register);
}

function registerCustomerTests(test: Register): void {
  test("addCustomer() records the opening balance as a journal entry", async (store) => {
    const customer = await store.addCustomer({
      name: "alice",
      pin: TEST_PIN,
      openingCents: 12_345,
    });
    assertEquals(customer.name, "alice", "name");
    assertEquals([...customer.pin.hash], [...TEST_PIN.hash], "PIN hash");
    assertEquals([...customer.pin.salt], [...TEST_PIN.salt], "PIN salt");
    assertEquals(customer.pin.iterations, TEST_PIN.iterations, "iterations");
    assertEquals(customer.failedLogins, 0, "failed logins");
    assertEquals(customer.lockedUntil, null, "lock");
    assertEquals(await store.balance(customer.id), 12_345, "balance");
    const [entry, ...rest] = await store.journalAfter(0, 10);
    assertEquals(rest.length, 0, "entries after the opening");
    assertEquals(entry.kind, "opening", "kind");
    assertEquals(entry.customer, "alice", "customer");
    assertEquals(entry.amountCents, 12_345, "amount");
    assertEquals(entry.balanceAfterCents, 12_345, "balance after");
    assertEquals(entry.requestId, null, "request id");
    const found = await store.findCustomer("alice");
    assertEquals(found?.id, customer.id, "found id");
  });

  test("addCustomer() with no opening balance makes no entry", async (store) => {
    const id = await addTestCustomer(store, "bob", 0);
    assertEquals(await store.balance(id), 0, "balance");
    assertEquals((await store.journalAfter(0, 10)).length, 0, "entries");
    assertEquals((await store.history(id, 10)).length, 0, "history");
  });

  test("addCustomer() refuses bad input and duplicates, changing nothing", async (store) => {
    await addTestCustomer(store, "alice", 100);
    const add = (name: string, openingCents = 0) =>
      store.addCustomer({ name, pin: TEST_PIN, openingCents });
    await assertLedgerError(add("alice", 500), "duplicate_customer");
    for (const name of ["Alice", "", "a b", "x".repeat(33), "bank:cash", "é"]) {
      await assertLedgerError(add(name), "invalid_name");
    }
    for (const cents of [-1, 1.5, NaN, BALANCE_CENTS_MAX + 1]) {
      await assertLedgerError(add("carol", cents), "invalid_amount");
    }
    const broken = { salt: TEST_PIN.salt, hash: TEST_PIN.hash, iterations: 0 };
    await assertLedgerError(
      store.addCustomer({ name: "dave", pin: broken, openingCents: 0 }),
      "invalid_argument",
    );
    const names = (await store.listCustomers()).map((c) => `${c.name}=${c.balanceCents}`);
    assertEquals(names, ["alice=100"], "customers");
    assertEquals(await store.findCustomer("carol"), undefined, "carol");
    assertEquals(await store.findCustomer("Not A Name!"), undefined, "invalid name lookup");
  });

  test("recordFailedLogin() locks after 5 wrong PINs and unlocks after lockMs", async (store) => {
    const id = await addTestCustomer(store, "alice", 0);
    const now = 1_700_000_000_000;
    const policy = { lockAfter: 5, lockMs: 60_000, now };
    for (let i = 1; i <= 4; i++) {
      assertEquals(await store.recordFailedLogin(id, policy), {
        failedLogins: i,
        lockedUntil: null,
      }, `failure ${i}`);
    }
    const locked = await store.recordFailedLogin(id, policy);
    assertEquals(locked, { failedLogins: 5, lockedUntil: now + 60_000 }, "fifth failure");
    const seen = await store.findCustomer("alice");
    assertEquals([seen?.failedLogins, seen?.lockedUntil], [5, now + 60_000], "stored lock");
    const during = await store.recordFailedLogin(id, { ...policy, now: now + 1_000 });
    assertEquals(during.lockedUntil, now + 60_000, "a failure while locked keeps the lock");
    const after = await store.recordFailedLogin(id, { ...policy, now: now + 60_000 });
    assertEquals(after, { failedLogins: 1, lockedUntil: null }, "after the lock expired");
    await store.clearFailedLogins(id);
    const cleared = await store.findCustomer("alice");
    assertEquals([cleared?.failedLogins, cleared?.lockedUntil], [0, null], "cleared");
    await assertLedgerError(store.recordFailedLogin(id + 1000, policy), "unknown_customer");
    await assertLedgerError(
      store.recordFailedLogin(id, { ...policy, lockAfter: 0 }),
      "invalid_argument",
    );
    await assertLedgerError(store.clearFailedLogins(id + 1000), "unknown_customer");
  });

  test("addAtm(), findAtm() and revokeAtm() keep ATM records", async (store) => {
    const key = crypto.getRandomValues(new Uint8Array(60));
    await store.addAtm("atm-1", key);
    await assertLedgerError(store.addAtm("atm-1", key), "duplicate_atm");
    await assertLedgerError(store.addAtm("bad id!", key), "invalid_name");
    await assertLedgerError(store.addAtm("atm-2", new Uint8Array(0)), "invalid_argument");
    const oversized = new Uint8Array(WRAPPED_KEY_BYTES_MAX + 1);
    await assertLedgerError(store.addAtm("atm-2", oversized), "invalid_argument");
    const atm = await store.findAtm("atm-1");
    assertEquals([...(atm?.wrappedKey ?? [])], [...key], "wrapped key");
    assertEquals(atm?.revoked, false, "revoked before");
    assert(!Number.isNaN(Date.parse(atm?.createdAt ?? "")), "createdAt is a date");
    assertEquals(await store.revokeAtm("atm-9"), false, "revoke unknown");
    assertEquals(await store.revokeAtm("atm-1"), true, "revoke");
    assertEquals((await store.findAtm("atm-1"))?.revoked, true, "revoked after");
    assertEquals(await store.findAtm("atm-2"), undefined, "atm-2 absent");
  });
}
