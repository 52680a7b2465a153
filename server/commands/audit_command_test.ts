/**
 * `bank audit` as a real process on the data directory of a real demo bank that served real ATM
 * processes: --verify, --decrypt, --pretty, --since, --user, --offline-key, and the exit codes
 * for a tampered or cut log and for bad usage.
 */

import assert from "node:assert/strict";
import { REPO_ROOT, runCommand, startBankProcess } from "../testing/bank_process.ts";
import { makeAuditDir, writeManyEvents } from "../audit/_test_support.ts";
import { connectRawAtm } from "../testing/raw_atm.ts";

/** Records of about 330 bytes: a log over PROGRESS_BYTES_MIN (4 MiB), which gets a bar. */
const LARGE_LOG_RECORDS = 16_000;

interface Demo {
  dir: string;
  /** Time just before alice's deposit. */
  depositFrom: string;
}

async function atm(dir: string, port: number, user: string, pin: string, args: string[]) {
  const n = { alice: 1, bob: 2, carol: 3 }[user];
  return await runCommand("atm", [
    "--user",
    user,
    "--credential",
    `${dir}/atms/atm-${n}.json`,
    "--server",
    `127.0.0.1:${port}`,
    "--pin-stdin",
    ...args,
  ], `${pin}\n`);
}

/**
 * A demo bank that served a deposit, a transfer, an unparsable amount and five wrong PINs in a row
 * (a lockout), saw an ATM revoked while running, and stopped.
 */
async function servedDemo(): Promise<Demo> {
  const dir = await Deno.makeTempDir({ prefix: "bank-audit-cli-" });
  const bank = await startBankProcess(dir, ["--demo"]);
  let depositFrom: string;
  try {
    depositFrom = new Date().toISOString();
    const deposit = await atm(dir, bank.port, "alice", "1111", ["deposit", "5.00"]);
    assert.equal(deposit.code, 0, deposit.stderr);
    const transfer = await atm(dir, bank.port, "alice", "1111", ["transfer", "bob", "1.25"]);
    assert.equal(transfer.code, 0, transfer.stderr);
    const wrong = await atm(dir, bank.port, "carol", "9999", ["balance"]);
    assert.notEqual(wrong.code, 0);
    const raw = await connectRawAtm(`${dir}/atms/atm-2.json`, bank.port);
    try {
      assert.equal((await raw.send({ id: "l1", op: "login", user: "bob", pin: "2222" })).ok, true);
      const bad = await raw.send({ id: "bad-amount-1", op: "withdraw", amount: "1e3" });
      assert.equal(!bad.ok && bad.error, "bad_amount");
      for (let i = 0; i < 4; i++) {
        await raw.send({ id: `w${i}`, op: "login", user: "carol", pin: "0000" });
      }
    } finally {
      await raw.close();
    }
    const revoke = await runCommand("bank", ["atm", "revoke", "atm-3", "--data", dir]);
    assert.equal(revoke.code, 0, revoke.stderr);
  } finally {
    assert.equal(await bank.stop(), 0, bank.log());
  }
  return { dir, depositFrom };
}

function bank(args: string[]) {
  return runCommand("bank", ["audit", ...args]);
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text.trimEnd().split("\n").map((line) => JSON.parse(line));
}

Deno.test("bank audit --verify and --decrypt work on a demo bank's data", async () => {
  const demo = await servedDemo();
  try {
    const verify = await bank(["--verify", "--data", demo.dir]);
    assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    assert.match(verify.stdout, /^result {3}OK$/m);
    assert.match(verify.stdout, /^files {4}1$/m);
    const records = Number(/^records {2}(\d+)$/m.exec(verify.stdout)?.[1]);

    const decrypt = await bank(["--decrypt", "--data", demo.dir]);
    assert.equal(decrypt.code, 0, decrypt.stderr);
    const events = jsonLines(decrypt.stdout);
    assert.equal(events.length, records);
    const types = events.map((e) => e.type);
    for (
      const type of [
        "customer_add",
        "atm_add",
        "opening",
        "bank_start",
        "connection_opened",
        "login_ok",
        "login_failed",
        "lockout",
        "tx",
        "logout",
        "connection_closed",
        "atm_revoke",
        "bank_stop",
      ]
    ) assert.ok(types.includes(type), `a ${type} record`);
    const tx = events.filter((e) => e.type === "tx");
    assert.deepEqual(tx.map((e) => [e.customer, e.op, e.result, e.balanceCents]), [
      ["alice", "deposit", "ok", 100_500],
      ["alice", "transfer", "ok", 100_375],
      ["bob", "withdraw", "bad_amount", undefined],
    ]);
    assert.equal(tx[2].requestId, "bad-amount-1");
    const lockout = events.find((e) => e.type === "lockout");
    assert.equal(lockout?.customer, "carol");
    assert.ok(tx.every((e) => typeof e.requestId === "string" && e.requestId.length > 0));
    assert.equal(events.filter((e) => e.type === "opening").length, 3);
    const failed = events.find((e) => e.type === "login_failed");
    assert.equal(failed?.reason, "wrong_pin");
    assert.ok(!decrypt.stdout.includes("9999"), "the PIN typed is never recorded");

    const raw = await Deno.readTextFile(`${demo.dir}/audit/audit-000001.jsonl.enc`);
    assert.ok(!raw.includes("alice") && !raw.includes("deposit"), "the log itself is encrypted");
  } finally {
    await Deno.remove(demo.dir, { recursive: true });
  }
});

Deno.test("bank audit --decrypt filters with --since and --user, and --pretty aligns", async () => {
  const demo = await servedDemo();
  try {
    const since = await bank(["--decrypt", "--since", demo.depositFrom, "--data", demo.dir]);
    assert.equal(since.code, 0, since.stderr);
    const recent = jsonLines(since.stdout);
    assert.ok(recent.every((e) => (e.at as string) >= demo.depositFrom));
    assert.ok(!recent.some((e) => e.type === "bank_start" || e.type === "customer_add"));
    assert.ok(recent.some((e) => e.type === "tx"));

    const bob = await bank(["--decrypt", "--user", "bob", "--data", demo.dir]);
    const about = jsonLines(bob.stdout);
    assert.ok(about.length >= 3);
    assert.ok(about.every((e) => e.customer === "bob" || e.counterparty === "bob"));
    assert.ok(about.some((e) => e.type === "tx" && e.counterparty === "bob"));

    const pretty = await bank(["--decrypt", "--pretty", "--user", "alice", "--data", demo.dir]);
    assert.equal(pretty.code, 0, pretty.stderr);
    const rows = pretty.stdout.trimEnd().split("\n");
    assert.match(rows[0], /^ +SEQ {2}TIME +TYPE +CUSTOMER +DETAILS$/);
    const column = rows[0].indexOf("CUSTOMER");
    for (const row of rows.slice(1)) assert.equal(row.slice(column, column + 5), "alice", row);
  } finally {
    await Deno.remove(demo.dir, { recursive: true });
  }
});

Deno.test("bank audit exits 1 naming file and line for a tampered or cut log, 2 on bad usage", async () => {
  const demo = await servedDemo();
  const path = `${demo.dir}/audit/audit-000001.jsonl.enc`;
  try {
    const offline = await bank([
      "--verify",
      "--offline-key",
      `${demo.dir}/audit-offline.key`,
      "--data",
      demo.dir,
    ]);
    assert.equal(offline.code, 0, offline.stdout);
    assert.match(offline.stdout, /^MACs {5}every epoch \(offline key\)$/m);

    const original = await Deno.readTextFile(path);
    const lines = original.split("\n");
    const record = JSON.parse(lines[3]);
    record.seq = 40;
    lines[3] = JSON.stringify(record);
    await Deno.writeTextFile(path, lines.join("\n"));
    const verify = await bank(["--verify", "--data", demo.dir]);
    assert.equal(verify.code, 1);
    assert.match(
      verify.stdout,
      /^result {3}FAILED: audit\/audit-000001\.jsonl\.enc line 4: bad_sequence: Record has seq 40, expected 4$/m,
    );
    const decrypt = await bank(["--decrypt", "--data", demo.dir]);
    assert.equal(decrypt.code, 1);
    assert.equal(jsonLines(decrypt.stdout).length, 3, "the records before it are printed");
    assert.match(decrypt.stderr, /audit\/audit-000001\.jsonl\.enc line 4: bad_sequence/);

    // cut the last two records: only the ledger's chain head can tell
    const kept = original.split("\n").slice(0, -3).join("\n") + "\n";
    await Deno.writeTextFile(path, kept);
    const cut = await bank(["--verify", "--data", demo.dir]);
    assert.equal(cut.code, 1);
    assert.match(cut.stdout, /truncated: Log ends at seq \d+ but the ledger head is at seq \d+/);

    const usage = await bank(["--verify", "--pretty", "--data", demo.dir]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--since, --user and --pretty go with --decrypt/);
    const neither = await bank(["--data", demo.dir]);
    assert.equal(neither.code, 2);
    const missing = await bank(["--verify", "--data", `${demo.dir}/nothing-here`]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no data directory at/);
  } finally {
    await Deno.remove(demo.dir, { recursive: true });
  }
});

Deno.test("bank audit --verify draws a progress bar on a terminal's stderr for a large log", async () => {
  const t = await makeAuditDir();
  try {
    await writeManyEvents(t.dir, LARGE_LOG_RECORDS);
    const command = [Deno.execPath(), "run", "--quiet", "-P=bank", "server/main.ts", "audit"]
      .concat(["--verify", "--data", t.dir]).map((arg) => `'${arg}'`).join(" ");
    // script(1) gives the command a pseudo-terminal, as an operator's shell would
    const output = await new Deno.Command("script", {
      args: ["-qec", command, "/dev/null"],
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const text = new TextDecoder().decode(output.stdout);
    assert.equal(output.code, 0, text);
    assert.match(text, /\r\[#{30}\] 100% [\d.]+\/[\d.]+ MiB/);
    assert.ok(text.includes("\r\x1b[K"), "the bar is cleared");
    assert.match(text, new RegExp(`records  ${LARGE_LOG_RECORDS}\\r?\\n`));
    assert.match(text, /result {3}OK/);
  } finally {
    await t.cleanup();
  }
});
