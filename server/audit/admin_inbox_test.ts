import assert from "node:assert/strict";
import { submitAuditEvent } from "./admin_inbox.ts";
import { AuditLog } from "./audit_log.ts";
import { INBOX_POLL_INTERVAL_MS, PATHS } from "./constants.ts";
import { allEvents, makeAuditDir, openRecordingHeads, writeEvents } from "./_test_support.ts";

function inboxNames(dir: string): string[] {
  try {
    return [...Deno.readDirSync(`${dir}/${PATHS.inboxDir}`)].map((e) => e.name).sort();
  } catch {
    return [];
  }
}

Deno.test("submitAuditEvent() leaves an owner-only encrypted file the next open records", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // no audit keys yet: an admin command before the bank's first start creates them
    const id = await submitAuditEvent(dir, { type: "atm_add", atmId: "atm-7" });
    const [name] = inboxNames(dir);
    assert.equal(name, `${id}.evt`);
    const path = `${dir}/${PATHS.inboxDir}/${name}`;
    assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);
    assert.ok(!Deno.readTextFileSync(path).includes("atm-7"), "the event is encrypted");

    const log = await AuditLog.open({ dataDir: dir, serverId: "bank-1" });
    assert.equal(log.head().seq, 1, "durable at open");
    await log.close();
    const [event] = await allEvents(dir);
    assert.equal(event.type, "atm_add");
    assert.equal(event.atmId, "atm-7");
    assert.equal(event.inboxId, id);
    assert.ok(!Number.isNaN(Date.parse(event.madeAt as string)));
    assert.deepEqual(inboxNames(dir), [], "the file is gone once its record is durable");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AuditLog takes inbox events while it runs and reports the new head", async () => {
  const t = await makeAuditDir();
  try {
    const { log, heads } = await openRecordingHeads(t.dir);
    await submitAuditEvent(t.dir, { type: "customer_add", customer: "dave", openingCents: 0 });
    await submitAuditEvent(t.dir, { type: "atm_revoke", atmId: "atm-2" });
    for (let waited = 0; inboxNames(t.dir).length > 0 && waited < 50; waited++) {
      await new Promise((resolve) => setTimeout(resolve, INBOX_POLL_INTERVAL_MS / 4));
    }
    await log.close();
    assert.equal(heads.at(-1), 2);
    const events = await allEvents(t.dir);
    assert.deepEqual(events.map((e) => e.type), ["customer_add", "atm_revoke"], "in order made");
  } finally {
    await t.cleanup();
  }
});

Deno.test("AuditLog records a forged or renamed inbox file as rejected and keeps it aside", async () => {
  const t = await makeAuditDir();
  try {
    const id = await submitAuditEvent(t.dir, { type: "atm_add", atmId: "atm-8" });
    const inbox = `${t.dir}/${PATHS.inboxDir}`;
    const renamed = `${id.slice(0, 14)}${"0".repeat(16)}`;
    await Deno.rename(`${inbox}/${id}.evt`, `${inbox}/${renamed}.evt`);
    const forged = `${id.slice(0, 14)}${"f".repeat(16)}`;
    await Deno.writeTextFile(`${inbox}/${forged}.evt`, '{"format":"bank-audit-inbox-v1"}');
    const log = await AuditLog.open({ dataDir: t.dir, serverId: "bank-1" });
    await log.close();
    const events = await allEvents(t.dir);
    assert.deepEqual(
      events.map((e) => [e.type, e.inboxId, e.reason]),
      [
        ["inbox_rejected", renamed, "MAC does not verify"],
        ["inbox_rejected", forged, "not an inbox file"],
      ],
    );
    assert.deepEqual(inboxNames(t.dir), [`${renamed}.evt.rejected`, `${forged}.evt.rejected`]);
  } finally {
    await t.cleanup();
  }
});

Deno.test("AuditLog.open() deletes an inbox file whose record a crash left behind it", async () => {
  const t = await makeAuditDir();
  try {
    const id = await submitAuditEvent(t.dir, { type: "atm_add", atmId: "atm-9" });
    const path = `${t.dir}/${PATHS.inboxDir}/${id}.evt`;
    const copy = await Deno.readFile(path);
    const log = await AuditLog.open({ dataDir: t.dir, serverId: "bank-1" });
    await log.close();
    // as if the process died between the record's fsync and the file's removal
    await Deno.writeFile(path, copy, { mode: 0o600 });
    await writeEvents(t.dir, 3, { first: 10 });
    assert.deepEqual(inboxNames(t.dir), [], "taken without a second record");
    const events = await allEvents(t.dir);
    assert.equal(events.filter((e) => e.inboxId === id).length, 1);
  } finally {
    await t.cleanup();
  }
});

Deno.test("submitAuditEvent() refuses an event with a secret field and writes nothing", async () => {
  const t = await makeAuditDir();
  try {
    await assert.rejects(
      () => submitAuditEvent(t.dir, { type: "customer_add", customer: "x", pin: "1234" }),
      TypeError,
    );
    assert.deepEqual(inboxNames(t.dir), []);
  } finally {
    await t.cleanup();
  }
});

Deno.test("submitAuditEvent() calls racing on a new directory all seal with the same keys", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const atms = ["atm-a", "atm-b", "atm-c", "atm-d"];
    await Promise.all(atms.map((atmId) => submitAuditEvent(dir, { type: "atm_add", atmId })));
    const log = await AuditLog.open({ dataDir: dir, serverId: "bank-1" });
    await log.close();
    const events = await allEvents(dir);
    assert.deepEqual(events.map((e) => e.type), ["atm_add", "atm_add", "atm_add", "atm_add"]);
    assert.deepEqual(events.map((e) => e.atmId).sort(), atms);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
