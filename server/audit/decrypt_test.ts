import assert from "node:assert/strict";
import { decryptAudit, type DecryptSummary } from "./decrypt.ts";
import { AuditLog } from "./audit_log.ts";
import { AuditError } from "./audit_error.ts";
import type { StampedEvent } from "./audit_types.ts";
import {
  flipBase64,
  makeAuditDir,
  readLines,
  SMALL_FILE_BYTES,
  withField,
  writeEvents,
  writeLines,
} from "./_test_support.ts";

async function collect(
  generator: AsyncGenerator<StampedEvent, DecryptSummary>,
): Promise<{ events: StampedEvent[]; summary?: DecryptSummary; error?: unknown }> {
  const events: StampedEvent[] = [];
  try {
    for (let next = await generator.next();; next = await generator.next()) {
      if (next.done) return { events, summary: next.value };
      events.push(next.value);
    }
  } catch (error) {
    return { events, error };
  }
}

Deno.test("decryptAudit() yields every event in order with its seq, time and server", async () => {
  const t = await makeAuditDir();
  try {
    await writeEvents(t.dir, 30, { batch: 4 });
    const { events, summary } = await collect(decryptAudit({ dataDir: t.dir }));
    assert.deepEqual(events.map((e) => e.seq), [...Array(30).keys()].map((i) => i + 1));
    assert.deepEqual(events.map((e) => e.amountCents), events.map((e) => e.seq));
    assert.ok(events.every((e) => e.serverId === "bank-1" && e.type === "tx"));
    assert.deepEqual(summary, { records: 30, yielded: 30, uncheckedRecords: 0 });
  } finally {
    await t.cleanup();
  }
});

Deno.test("decryptAudit() filters by time with since and by customer or counterparty with user", async () => {
  const t = await makeAuditDir();
  try {
    let now = Date.parse("2030-01-01T00:00:00Z");
    const log = await AuditLog.open({
      dataDir: t.dir,
      serverId: "bank-1",
      now: () => new Date(now),
    });
    log.append({ type: "login_ok", customer: "alice" });
    now += 60_000;
    log.append({ type: "tx", customer: "bob", counterparty: "alice", op: "transfer" });
    now += 60_000;
    log.append({ type: "tx", customer: "carol", op: "deposit" });
    log.append({ type: "bank_stop" });
    await log.close();

    const since = await collect(
      decryptAudit({ dataDir: t.dir, since: new Date("2030-01-01T00:01:00Z") }),
    );
    assert.deepEqual(since.events.map((e) => e.seq), [2, 3, 4]);
    const alice = await collect(decryptAudit({ dataDir: t.dir, user: "ALICE" }));
    assert.deepEqual(alice.events.map((e) => e.seq), [1, 2], "as customer or as counterparty");
    assert.deepEqual(alice.summary, { records: 4, yielded: 2, uncheckedRecords: 0 });
    const both = await collect(
      decryptAudit({ dataDir: t.dir, user: "carol", since: new Date("2030-01-01T00:02:00Z") }),
    );
    assert.deepEqual(both.events.map((e) => e.seq), [3]);
  } finally {
    await t.cleanup();
  }
});

Deno.test("decryptAudit() stops at the first bad line after yielding the events before it", async () => {
  const t = await makeAuditDir();
  try {
    await writeEvents(t.dir, 200, { batch: 50 });
    const lines = await readLines(t.dir);
    lines[149] = withField(lines[149], "iv", flipBase64(JSON.parse(lines[149]).iv));
    await writeLines(t.dir, lines);
    const { events, error } = await collect(decryptAudit({ dataDir: t.dir }));
    assert.equal(events.length, 149, "nothing after the bad line, nothing before it held back");
    assert.ok(error instanceof AuditError);
    assert.equal(error.code, "bad_mac");
    assert.equal(error.file, "audit/audit-000001.jsonl.enc");
    assert.equal(error.line, 150);
  } finally {
    await t.cleanup();
  }
});

Deno.test("decryptAudit() counts past-epoch records it cannot check without the offline key", async () => {
  const t = await makeAuditDir();
  try {
    await writeEvents(t.dir, 1500, { rotateBytes: SMALL_FILE_BYTES, batch: 100 });
    const server = await collect(decryptAudit({ dataDir: t.dir }));
    assert.equal(server.events.length, 1500);
    assert.ok(server.summary!.uncheckedRecords > 0);
    assert.ok(server.summary!.uncheckedEpochMax! >= 0);
    const offline = await collect(decryptAudit({ dataDir: t.dir, offlineKeyPath: t.offlineKey }));
    assert.equal(offline.summary!.uncheckedRecords, 0);
  } finally {
    await t.cleanup();
  }
});

Deno.test("decryptAudit() returns events with non-ASCII text intact, among ASCII ones", async () => {
  const t = await makeAuditDir();
  const notes = ["plain", "café", "日本語", "emoji 🏦", "plain again"];
  // the first 100 are ASCII (whole batches decoded at once), the others mixed (one by one)
  const note = (i: number) => i < 100 ? "ascii" : notes[i % 7] ?? "ascii";
  try {
    const log = await AuditLog.open({ dataDir: t.dir, serverId: "bank-1" });
    try {
      for (let i = 0; i < 200; i++) log.append({ type: "note", note: note(i) });
      await log.flush();
    } finally {
      await log.close();
    }
    const { events, error } = await collect(decryptAudit({ dataDir: t.dir }));
    assert.equal(error, undefined);
    assert.deepEqual(
      events.map((e) => e.note),
      [...Array(200).keys()].map(note),
    );
  } finally {
    await t.cleanup();
  }
});
