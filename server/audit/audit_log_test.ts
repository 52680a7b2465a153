import assert from "node:assert/strict";
import { AuditLog } from "./audit_log.ts";
import { AuditError } from "./audit_error.ts";
import { verifyAudit } from "./verify.ts";
import { loadEpochState, loadOfflineKey, nextEpochSecret, saveEpochState } from "./audit_keys.ts";
import { toBase64Url } from "./audit_crypto.ts";
import { AUTO_FLUSH_DELAY_MS, EPOCH_AGE_MAX_MS, PATHS } from "./constants.ts";
import {
  allEvents,
  logPath,
  makeAuditDir,
  openRecordingHeads,
  readLines,
  SMALL_FILE_BYTES,
  testEvent,
  writeEvents,
} from "./_test_support.ts";

async function rejects(
  work: () => Promise<unknown>,
  code: string,
  message?: RegExp,
): Promise<AuditError> {
  try {
    await work();
  } catch (error) {
    assert.ok(error instanceof AuditError, String(error));
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return error;
  }
  assert.fail(`expected AuditError ${code}`);
}

/** Every file under a directory, recursively, except the offline key. */
async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) found.push(...await filesUnder(path));
    else if (entry.name !== PATHS.offlineKey) found.push(path);
  }
  return found;
}

Deno.test("AuditLog.flush() makes appended events durable and returns the chain head", async () => {
  const t = await makeAuditDir();
  try {
    const log = await AuditLog.open({ dataDir: t.dir, serverId: "bank-1" });
    log.append({ type: "bank_start", address: "127.0.0.1:4000" });
    log.append(testEvent(1));
    assert.equal(log.head().seq, 0, "nothing is durable before the flush");
    const head = await log.flush();
    assert.equal(head.seq, 2);
    assert.equal(head.serverId, "bank-1");
    assert.equal(head.mac, JSON.parse((await readLines(t.dir)).at(-1)!).mac);
    await log.close();
    const events = await allEvents(t.dir);
    assert.deepEqual(events.map((e) => [e.seq, e.type, e.serverId]), [
      [1, "bank_start", "bank-1"],
      [2, "tx", "bank-1"],
    ]);
    assert.ok(!Number.isNaN(Date.parse(events[0].at)));
  } finally {
    await t.cleanup();
  }
});

Deno.test("AuditLog.flush() shares one batch among concurrent callers and keeps the order", async () => {
  const t = await makeAuditDir();
  try {
    const log = await AuditLog.open({ dataDir: t.dir, serverId: "bank-1" });
    const flushes: Promise<unknown>[] = [];
    for (let n = 1; n <= 300; n++) {
      log.append(testEvent(n));
      if (n % 3 === 0) flushes.push(log.flush());
    }
    await Promise.all(flushes);
    await log.close();
    const events = await allEvents(t.dir);
    assert.deepEqual(events.map((e) => e.amountCents), [...Array(300).keys()].map((i) => i + 1));
  } finally {
    await t.cleanup();
  }
});

Deno.test("AuditLog rotates files at the size limit, each file in a new epoch", async () => {
  const t = await makeAuditDir();
  try {
    const head = await writeEvents(t.dir, 1500, { rotateBytes: SMALL_FILE_BYTES, batch: 100 });
    const files = [...Deno.readDirSync(`${t.dir}/${PATHS.logDir}`)]
      .map((e) => e.name)
      .filter((n) => n.endsWith(".jsonl.enc"))
      .sort();
    assert.ok(files.length >= 3, `several files: ${files}`);
    for (const [i, name] of files.entries()) {
      const bytes = Deno.statSync(`${t.dir}/${PATHS.logDir}/${name}`).size;
      assert.ok(bytes <= SMALL_FILE_BYTES, `${name} is ${bytes} bytes`);
      const lines = await readLines(t.dir, i + 1);
      const epochs = new Set(lines.map((line) => JSON.parse(line).epoch));
      assert.deepEqual([...epochs], [i], `${name} holds epoch ${i} only`);
    }
    // the chain runs on across files: seq continues, and the whole log verifies
    const report = await verifyAudit({
      dataDir: t.dir,
      ledgerHead: head,
      offlineKeyPath: t.offlineKey,
    });
    assert.equal(report.ok, true, JSON.stringify(report.problem));
    assert.equal(report.files, files.length);
    assert.equal(report.epochs, files.length);
  } finally {
    await t.cleanup();
  }
});

Deno.test("AuditLog keeps only the current epoch's secret on disk after rotations", async () => {
  const t = await makeAuditDir();
  try {
    await writeEvents(t.dir, 1500, { rotateBytes: SMALL_FILE_BYTES, batch: 100 });
    const state = await loadEpochState(`${t.dir}/${PATHS.epochKey}`);
    assert.ok(state.epoch >= 2);
    // re-derive every epoch secret from the offline key
    const secrets = [await loadOfflineKey(t.offlineKey)];
    for (let e = 1; e <= state.epoch; e++) secrets.push(await nextEpochSecret(secrets[e - 1]));
    assert.deepEqual(
      state.secret,
      secrets[state.epoch],
      "the offline key re-derives the current one",
    );
    // no earlier epoch's secret is left anywhere in the data directory, raw or encoded
    const contents = await Promise.all(
      (await filesUnder(t.dir)).map(async (path) => await Deno.readFile(path)),
    );
    for (let e = 0; e < state.epoch; e++) {
      const encoded = toBase64Url(secrets[e]);
      const raw = secrets[e].toHex();
      for (const bytes of contents) {
        const text = new TextDecoder("latin1").decode(bytes);
        assert.ok(!text.includes(encoded), `epoch ${e} secret found in base64url`);
        assert.ok(!bytes.toHex().includes(raw), `epoch ${e} secret found raw`);
      }
    }
    const keyFiles = [...Deno.readDirSync(`${t.dir}/${PATHS.keysDir}`)].map((e) => e.name).sort();
    assert.deepEqual(keyFiles, ["audit-epoch.key", "audit-keys.lock", "audit-master.key"]);
    assert.equal(Deno.statSync(`${t.dir}/${PATHS.epochKey}`).mode! & 0o777, 0o600);
  } finally {
    await t.cleanup();
  }
});

Deno.test("AuditLog moves to a new epoch once a day even without rotating", async () => {
  const t = await makeAuditDir();
  try {
    let now = Date.now();
    const epochKey = `${t.dir}/${PATHS.epochKey}`;
    await saveEpochState(epochKey, { ...await loadEpochState(epochKey), since: new Date(now) });
    const log = await AuditLog.open({
      dataDir: t.dir,
      serverId: "bank-1",
      now: () => new Date(now),
    });
    log.append(testEvent(1));
    await log.flush();
    now += EPOCH_AGE_MAX_MS - 1;
    log.append(testEvent(2));
    await log.flush();
    now += 1;
    log.append(testEvent(3));
    const head = await log.flush();
    await log.close();
    const epochs = (await readLines(t.dir)).map((line) => JSON.parse(line).epoch);
    assert.deepEqual(epochs, [0, 0, 1], "one file, epoch 1 from the day's end on");
    assert.equal((await loadEpochState(`${t.dir}/${PATHS.epochKey}`)).epoch, 1);
    const server = await verifyAudit({ dataDir: t.dir, ledgerHead: head });
    assert.equal(server.ok, true);
    assert.equal(server.uncheckedRecords, 2, "epoch 0 is beyond the server's key now");
    const offline = await verifyAudit({ dataDir: t.dir, offlineKeyPath: t.offlineKey });
    assert.equal(offline.uncheckedRecords, 0);
  } finally {
    await t.cleanup();
  }
});

Deno.test("AuditLog makes events durable by itself shortly after append", async () => {
  const t = await makeAuditDir();
  try {
    const { log, heads } = await openRecordingHeads(t.dir);
    log.append({ type: "login_failed", customer: "alice", reason: "wrong_pin" });
    for (let waited = 0; heads.length === 0 && waited < 100; waited++) {
      await new Promise((resolve) => setTimeout(resolve, AUTO_FLUSH_DELAY_MS));
    }
    assert.deepEqual(heads, [1], "the ledger gets the head of the automatic flush");
    assert.equal((await readLines(t.dir)).length, 1, "the record is on disk without a flush call");
    await log.close();
  } finally {
    await t.cleanup();
  }
});

Deno.test("AuditLog.open() refuses a second writer on the same directory", async () => {
  const t = await makeAuditDir();
  try {
    const log = await AuditLog.open({ dataDir: t.dir, serverId: "bank-1" });
    await rejects(
      () => AuditLog.open({ dataDir: t.dir, serverId: "bank-1" }),
      "in_use",
      /already running/,
    );
    await log.close();
    const again = await AuditLog.open({ dataDir: t.dir, serverId: "bank-1" });
    await again.close();
  } finally {
    await t.cleanup();
  }
});

Deno.test("AuditLog.open() cuts a torn last line and records the repair", async () => {
  const t = await makeAuditDir();
  try {
    await writeEvents(t.dir, 10);
    const lines = await readLines(t.dir);
    const torn = lines[0].slice(0, 57);
    await Deno.writeTextFile(logPath(t.dir), torn, { append: true });
    const before = await verifyAudit({ dataDir: t.dir });
    assert.equal(before.problem?.code, "truncated");
    assert.equal(before.problem?.line, 11);

    const log = await AuditLog.open({ dataDir: t.dir, serverId: "bank-1" });
    assert.equal(log.recovery.tornLineRepaired, true);
    assert.equal(log.recovery.records, 10);
    assert.equal(log.head().seq, 11, "the repair record is durable at open");
    await log.close();

    const events = await allEvents(t.dir);
    assert.equal(events.length, 11);
    assert.deepEqual(
      { type: events[10].type, file: events[10].file, line: events[10].line },
      { type: "audit_repaired", file: "audit/audit-000001.jsonl.enc", line: 11 },
    );
    assert.equal(events[10].bytesDiscarded, 57);
    assert.equal((await verifyAudit({ dataDir: t.dir })).ok, true);
  } finally {
    await t.cleanup();
  }
});

Deno.test("AuditLog.open() refuses a log cut short of the ledger head, and a tampered one", async () => {
  const t = await makeAuditDir();
  try {
    const head = await writeEvents(t.dir, 10);
    const lines = await readLines(t.dir);
    await Deno.writeTextFile(logPath(t.dir), lines.slice(0, 8).map((l) => `${l}\n`).join(""));
    await rejects(
      () => AuditLog.open({ dataDir: t.dir, serverId: "bank-1", ledgerHead: head }),
      "truncated",
      /ledger head is at seq 10/,
    );
    const record = JSON.parse(lines[3]);
    record.ct = (record.ct[0] === "A" ? "B" : "A") + record.ct.slice(1);
    lines[3] = JSON.stringify(record);
    await Deno.writeTextFile(logPath(t.dir), lines.map((l) => `${l}\n`).join(""));
    const error = await rejects(
      () => AuditLog.open({ dataDir: t.dir, serverId: "bank-1", ledgerHead: head }),
      "bad_mac",
    );
    assert.equal(error.line, 4);
    // a refused open leaves no lock behind
    await rejects(() => AuditLog.open({ dataDir: t.dir, serverId: "bank-1" }), "bad_mac");
  } finally {
    await t.cleanup();
  }
});

Deno.test("AuditLog.open() refuses another server's ledger head or records", async () => {
  const t = await makeAuditDir();
  try {
    const head = await writeEvents(t.dir, 3);
    await rejects(
      () => AuditLog.open({ dataDir: t.dir, serverId: "bank-2", ledgerHead: head }),
      "wrong_server",
    );
    await rejects(() => AuditLog.open({ dataDir: t.dir, serverId: "bank-2" }), "wrong_server");
  } finally {
    await t.cleanup();
  }
});

Deno.test("AuditLog.append() refuses secrets, stamped fields and oversized events", async () => {
  const t = await makeAuditDir();
  try {
    const log = await AuditLog.open({ dataDir: t.dir, serverId: "bank-1" });
    const bad = [
      { type: "login_ok", pin: "1234" },
      { type: "atm_add", details: { psk: "x" } },
      { type: "tx", seq: 5 },
      { type: "tx", at: "now" },
      { type: "" },
      { type: "tx", serverId: "bank-9" },
      { type: "tx", blob: "x".repeat(20_000) },
    ];
    for (const event of bad) {
      assert.throws(() => log.append(event), TypeError, JSON.stringify(event).slice(0, 40));
    }
    assert.equal(await log.flush().then((h) => h.seq), 0, "nothing was appended");
    await log.close();
    await rejects(() => Promise.resolve().then(() => log.append({ type: "tx" })), "closed");
  } finally {
    await t.cleanup();
  }
});

Deno.test("AuditLog.lastEntryId follows appended entry ids, ignoring replays", async () => {
  const t = await makeAuditDir();
  try {
    await writeEvents(t.dir, 5);
    const log = await AuditLog.open({ dataDir: t.dir, serverId: "bank-1" });
    assert.equal(log.lastEntryId, 5, "found at open");
    log.append({ type: "tx", entryId: 9, replayed: false });
    log.append({ type: "tx", entryId: 2, replayed: true });
    log.append({ type: "tx", entryId: 40, replayed: true });
    assert.equal(log.lastEntryId, 9);
    await log.close();
  } finally {
    await t.cleanup();
  }
});
