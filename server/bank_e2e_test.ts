/**
 * End to end: the real `bank` process, real `atm` processes and raw protocol clients over
 * loopback TCP, with the permission sets from deno.json. After every test the ledger's
 * double-entry check must hold.
 */

import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { BankClient } from "../atm/bank_client.ts";
import { readCredential, writeCredential } from "../lib/mod.ts";
import { openSqliteStore } from "./ledger/sqlite_store.ts";
import { type BankProcess, runCommand, startBankProcess } from "./testing/bank_process.ts";
import { connectRawAtm } from "./testing/raw_atm.ts";

async function withDemoBank(work: (bank: BankProcess) => Promise<void>, args: string[] = []) {
  const dataDir = await Deno.makeTempDir({ prefix: "bank-e2e-" });
  const bank = await startBankProcess(dataDir, ["--demo", ...args]);
  try {
    await work(bank);
    const store = await openSqliteStore(`${dataDir}/ledger.sqlite`);
    try {
      const check = await store.checkInvariants();
      deepStrictEqual(check.problems, []);
      ok(check.ok);
    } finally {
      await store.close();
    }
  } finally {
    equal(await bank.stop(), 0, bank.log());
    await Deno.remove(dataDir, { recursive: true });
  }
}

const credential = (bank: BankProcess, n: number) => `${bank.dataDir}/atms/atm-${n}.json`;

/** Runs the `atm` command as `user`, the PIN on its stdin, with a credential file and `args`. */
function runAtm(path: string, user: string, pin: string, args: string[]) {
  return runCommand(
    "atm",
    ["--user", user, "--credential", path, "--pin-stdin", ...args],
    `${pin}\n`,
  );
}

async function atm(bank: BankProcess, n: number, user: string, pin: string, args: string[]) {
  const server = ["--server", `127.0.0.1:${bank.port}`];
  const result = await runAtm(credential(bank, n), user, pin, [...server, "--json", ...args]);
  return { ...result, json: result.stdout.trim() ? JSON.parse(result.stdout) : null };
}

async function client(bank: BankProcess, n: number, user: string, pin: string) {
  const { atmId, psk } = await readCredential(credential(bank, n));
  const bankClient = new BankClient({ atmId, psk, servers: [`127.0.0.1:${bank.port}`] });
  await bankClient.login(user, pin);
  return bankClient;
}

Deno.test("three ATM processes deposit, withdraw and check balances at once; balances exact", async () => {
  await withDemoBank(async (bank) => {
    const people = [
      { n: 1, user: "alice", pin: "1111", opening: 1000 },
      { n: 2, user: "bob", pin: "2222", opening: 500 },
      { n: 3, user: "carol", pin: "3333", opening: 250 },
    ];
    await Promise.all(people.map(async ({ n, user, pin }) => {
      for (const args of [["deposit", "10.00"], ["withdraw", "2.50"], ["deposit", "0.01"]]) {
        const result = await atm(bank, n, user, pin, args);
        equal(result.code, 0, result.stderr);
        equal(result.json.ok, true);
      }
    }));
    for (const { n, user, pin, opening } of people) {
      const result = await atm(bank, n, user, pin, ["balance"]);
      equal(result.code, 0, result.stderr);
      equal(result.json.balance, (opening + 7.51).toFixed(2));
    }
  });
});

Deno.test("50 concurrent withdrawals against one account never overdraw it", async () => {
  await withDemoBank(async (bank) => {
    const clients = await Promise.all(
      Array.from({ length: 50 }, (_, i) => client(bank, 1 + (i % 3), "alice", "1111")),
    );
    const outcomes = await Promise.allSettled(
      clients.map((c) => c.request({ op: "withdraw", amount: "30.00" })),
    );
    const granted = outcomes.filter((o) => o.status === "fulfilled").length;
    equal(granted, 33); // 1000.00 covers 33 withdrawals of 30.00
    for (const outcome of outcomes) {
      if (outcome.status === "rejected") equal(outcome.reason.code, "insufficient_funds");
    }
    const balance = await clients[0].request({ op: "balance" });
    equal(balance.balance, "10.00");
    await Promise.all(clients.map((c) => c.close()));
  });
});

Deno.test("concurrent transfers both ways between two accounts finish and conserve money", async () => {
  await withDemoBank(async (bank) => {
    const alice = await Promise.all([1, 2, 3, 1, 2].map((n) => client(bank, n, "alice", "1111")));
    const bob = await Promise.all([3, 2, 1, 3, 2].map((n) => client(bank, n, "bob", "2222")));
    const rounds = 8;
    await Promise.all([
      ...alice.map(async (c) => {
        for (let i = 0; i < rounds; i++) {
          await c.request({ op: "transfer", to: "bob", amount: "3.00" });
        }
      }),
      ...bob.map(async (c) => {
        for (let i = 0; i < rounds; i++) {
          await c.request({ op: "transfer", to: "alice", amount: "1.00" });
        }
      }),
    ]);
    const a = await alice[0].request({ op: "balance" });
    const b = await bob[0].request({ op: "balance" });
    equal(a.balance, (1000 - 40 * 3 + 40 * 1).toFixed(2));
    equal(b.balance, (500 + 40 * 3 - 40 * 1).toFixed(2));
    await Promise.all([...alice, ...bob].map((c) => c.close()));
  });
});

Deno.test("a retried request id is applied once, also on a new connection", async () => {
  await withDemoBank(async (bank) => {
    const first = await connectRawAtm(credential(bank, 1), bank.port);
    equal((await first.send({ id: "l1", op: "login", user: "carol", pin: "3333" })).ok, true);
    const deposit = { id: "dep-1", op: "deposit" as const, amount: "5.00" };
    const applied = await first.send(deposit);
    deepStrictEqual([applied.ok, applied.ok && applied.balance], [true, "255.00"]);
    const again = await first.send(deposit);
    deepStrictEqual([again.ok, again.ok && again.replayed], [true, true]);
    await first.close();

    const other = await connectRawAtm(credential(bank, 2), bank.port);
    await other.send({ id: "l2", op: "login", user: "carol", pin: "3333" });
    const stolenId = await other.send(deposit);
    equal(!stolenId.ok && stolenId.error, "request_conflict", "another ATM cannot reuse the id");
    await other.close();

    const second = await connectRawAtm(credential(bank, 1), bank.port);
    await second.send({ id: "l3", op: "login", user: "carol", pin: "3333" });
    const retried = await second.send(deposit);
    deepStrictEqual([retried.ok, retried.ok && retried.balance], [true, "255.00"]);
    const conflict = await second.send({ ...deposit, amount: "6.00" });
    equal(!conflict.ok && conflict.error, "request_conflict");
    const balance = await second.send({ id: "b", op: "balance" });
    equal(balance.ok && balance.balance, "255.00");
    await second.close();
  });
});

Deno.test("the bank refuses every malformed, zero, negative and over-limit amount", async () => {
  await withDemoBank(async (bank) => {
    const raw = await connectRawAtm(credential(bank, 1), bank.port);
    await raw.send({ id: "l", op: "login", user: "bob", pin: "2222" });
    const bad = ["1e3", "NaN", "1.234", " ", "0", "0.00", "-5", "Infinity", "0x10", "99999999.00"];
    for (const [i, amount] of bad.entries()) {
      const answer = await raw.send({ id: `bad-${i}`, op: "withdraw", amount });
      equal(answer.ok, false, amount);
      if (!answer.ok) {
        equal(answer.error, "bad_amount", amount);
        ok(answer.message.length > 10, answer.message);
      }
    }
    const balance = await raw.send({ id: "b", op: "balance" });
    equal(balance.ok && balance.balance, "500.00");
    await raw.close();
  });
});

Deno.test("five wrong PINs lock the account; the right PIN is then refused the same way", async () => {
  await withDemoBank(async (bank) => {
    for (let i = 0; i < 5; i++) {
      const wrong = await atm(bank, 1, "alice", "9999", ["balance"]);
      equal(wrong.code, 3);
      equal(wrong.json.error, "login_failed");
    }
    const locked = await atm(bank, 1, "alice", "1111", ["balance"]);
    equal(locked.code, 3);
    equal(locked.json.error, "login_failed");
    const unknown = await atm(bank, 1, "mallory", "1111", ["balance"]);
    deepStrictEqual(unknown.json, locked.json);
    const other = await atm(bank, 2, "bob", "2222", ["balance"]);
    equal(other.code, 0, other.stderr);
  });
});

Deno.test("an unknown ATM and a revoked credential cannot connect", async () => {
  await withDemoBank(async (bank) => {
    const added = await runCommand("bank", ["atm", "add", "atm-9", "--data", bank.dataDir]);
    equal(added.code, 0, added.stderr);
    const path = `${bank.dataDir}/atms/atm-9.json`;
    const server = ["--server", `127.0.0.1:${bank.port}`];
    const before = await runAtm(path, "bob", "2222", [...server, "balance"]);
    equal(before.code, 0, before.stderr);
    const revoked = await runCommand("bank", ["atm", "revoke", "atm-9", "--data", bank.dataDir]);
    equal(revoked.code, 0, revoked.stderr);
    const after = await runAtm(path, "bob", "2222", [...server, "balance"]);
    equal(after.code, 5, after.stderr);
    ok(/did not accept this ATM's credential/.test(after.stderr), after.stderr);
    ok(bank.log().includes("reason=unknown_atm"), "the bank logs the real reason locally");

    // A made-up ATM id, and a known id with a key the bank never issued, get the same answer.
    const forged = [
      { atmId: "atm-never-added", path: `${bank.dataDir}/forged-unknown.json` },
      { atmId: "atm-1", path: `${bank.dataDir}/forged-wrong-key.json` },
    ];
    const stderrs: string[] = [];
    for (const { atmId, path } of forged) {
      const psk = crypto.getRandomValues(new Uint8Array(32));
      await writeCredential(path, { atmId, psk, servers: [`127.0.0.1:${bank.port}`] });
      const refused = await runAtm(path, "bob", "2222", ["balance"]);
      equal(refused.code, 5, refused.stderr);
      stderrs.push(refused.stderr);
    }
    equal(stderrs[0], stderrs[1], "unknown id and wrong key look the same to the ATM");
    // With the wrong key the ATM is the first to find a bad MAC (on the bank's reply); the bank
    // then only hears the ATM's generic failure message.
    ok(bank.log().includes("reason=handshake_failed"), bank.log());
  });
});
