import assert from "node:assert/strict";
import { verifyAudit, type VerifyReport } from "./verify.ts";
import {
  flipBase64,
  logPath,
  makeAuditDir,
  readLines,
  SMALL_FILE_BYTES,
  type TestDir,
  withField,
  writeEvents,
  writeLines,
} from "./_test_support.ts";
import type { ChainHead } from "./audit_types.ts";
import { PATHS } from "./constants.ts";

const RECORDS = 20;
const FILE = "audit/audit-000001.jsonl.enc";

/** A one-file log of RECORDS records, its head, and a cleanup. */
async function withLog(
  test: (t: TestDir, head: ChainHead) => Promise<void>,
): Promise<void> {
  const t = await makeAuditDir();
  try {
    const head = await writeEvents(t.dir, RECORDS, { batch: 7 });
    await test(t, head);
  } finally {
    await t.cleanup();
  }
}

function assertProblem(
  report: VerifyReport,
  expected: { file: string; line: number; code: string; message?: string | RegExp },
): void {
  assert.equal(report.ok, false, "the report must not be OK");
  const problem = report.problem!;
  assert.equal(problem.code, expected.code, problem.message);
  assert.equal(problem.file, expected.file, problem.message);
  assert.equal(problem.line, expected.line, problem.message);
  if (typeof expected.message === "string") assert.equal(problem.message, expected.message);
  else if (expected.message) assert.match(problem.message, expected.message);
}

Deno.test("verifyAudit() reports OK with records, files, span and epochs for an intact log", async () => {
  await withLog(async (t, head) => {
    const report = await verifyAudit({ dataDir: t.dir, ledgerHead: head });
    assert.equal(report.ok, true, JSON.stringify(report.problem));
    assert.equal(report.records, RECORDS);
    assert.equal(report.files, 1);
    assert.equal(report.epochs, 1);
    assert.equal(report.uncheckedRecords, 0);
    assert.ok(report.firstAt! <= report.lastAt!);
  });
});

Deno.test("verifyAudit() names the line and field problem when each field of a record changes", async () => {
  const edits: [string, (line: string) => string, string, RegExp][] = [
    ["seq", (l) => withField(l, "seq", 99), "bad_sequence", /seq 99, expected 5/],
    ["epoch", (l) => withField(l, "epoch", 1), "bad_mac", /seq 5 does not verify/],
    [
      "iv",
      (l) => withField(l, "iv", flipBase64(JSON.parse(l).iv)),
      "bad_mac",
      /seq 5 does not verify/,
    ],
    [
      "ct",
      (l) => withField(l, "ct", flipBase64(JSON.parse(l).ct)),
      "bad_mac",
      /seq 5 does not verify/,
    ],
    [
      "ct shortened",
      (l) => withField(l, "ct", JSON.parse(l).ct.slice(22)),
      "bad_mac",
      /seq 5 does not verify/,
    ],
    [
      "mac",
      (l) => withField(l, "mac", flipBase64(JSON.parse(l).mac)),
      "bad_mac",
      /seq 5 does not verify/,
    ],
  ];
  for (const [name, edit, code, message] of edits) {
    await withLog(async (t, head) => {
      const lines = await readLines(t.dir);
      lines[4] = edit(lines[4]);
      await writeLines(t.dir, lines);
      const report = await verifyAudit({ dataDir: t.dir, ledgerHead: head });
      assert.equal(report.records, 4, `${name}: the records before it passed`);
      assertProblem(report, { file: FILE, line: 5, code, message });
    });
  }
});

Deno.test("verifyAudit() blames the record, not the key, when the first record's MAC changes", async () => {
  await withLog(async (t) => {
    const lines = await readLines(t.dir);
    lines[0] = withField(lines[0], "mac", flipBase64(JSON.parse(lines[0]).mac));
    await writeLines(t.dir, lines);
    const report = await verifyAudit({ dataDir: t.dir });
    assertProblem(report, { file: FILE, line: 1, code: "bad_mac" });
  });
});

Deno.test("verifyAudit() reports a line deleted in the middle as a sequence gap there", async () => {
  await withLog(async (t, head) => {
    const lines = await readLines(t.dir);
    lines.splice(9, 1);
    await writeLines(t.dir, lines);
    const report = await verifyAudit({ dataDir: t.dir, ledgerHead: head });
    assertProblem(report, {
      file: FILE,
      line: 10,
      code: "bad_sequence",
      message: "Record has seq 11, expected 10",
    });
  });
});

Deno.test("verifyAudit() reports two swapped lines at the first of them", async () => {
  await withLog(async (t, head) => {
    const lines = await readLines(t.dir);
    [lines[11], lines[12]] = [lines[12], lines[11]];
    await writeLines(t.dir, lines);
    const report = await verifyAudit({ dataDir: t.dir, ledgerHead: head });
    assertProblem(report, {
      file: FILE,
      line: 12,
      code: "bad_sequence",
      message: "Record has seq 13, expected 12",
    });
  });
});

Deno.test("verifyAudit() catches a cut tail through the ledger's chain head", async () => {
  await withLog(async (t, head) => {
    const lines = await readLines(t.dir);
    await writeLines(t.dir, lines.slice(0, RECORDS - 3));
    const withHead = await verifyAudit({ dataDir: t.dir, ledgerHead: head });
    assertProblem(withHead, {
      file: FILE,
      line: 0,
      code: "truncated",
      message: `Log ends at seq ${RECORDS - 3} but the ledger head is at seq ${RECORDS}: ` +
        "records were cut off",
    });
    assert.equal(withHead.records, RECORDS - 3);
    // without the head, whole lines cut off the end cannot be noticed: that is what it is for
    const withoutHead = await verifyAudit({ dataDir: t.dir });
    assert.equal(withoutHead.ok, true);
  });
});

Deno.test("verifyAudit() reports a log whose record differs from the ledger head", async () => {
  await withLog(async (t, head) => {
    const other = { ...head, mac: flipBase64(head.mac) };
    const report = await verifyAudit({ dataDir: t.dir, ledgerHead: other });
    assertProblem(report, {
      file: FILE,
      line: RECORDS,
      code: "broken_chain",
      message: `Record differs from the ledger head at seq ${RECORDS}`,
    });
  });
});

Deno.test("verifyAudit() reports lines spliced in from another bank's log", async () => {
  const other = await makeAuditDir();
  try {
    await writeEvents(other.dir, RECORDS, { batch: 7 });
    const foreign = await readLines(other.dir);
    // the same seq from the other bank in place of ours
    await withLog(async (t, head) => {
      const lines = await readLines(t.dir);
      lines[6] = foreign[6];
      await writeLines(t.dir, lines);
      const report = await verifyAudit({ dataDir: t.dir, ledgerHead: head });
      assertProblem(report, { file: FILE, line: 7, code: "bad_mac", message: /seq 7/ });
    });
    // the other bank's first records in place of ours: no key can vouch for either
    await withLog(async (t, head) => {
      const lines = await readLines(t.dir);
      await writeLines(t.dir, [...foreign.slice(0, 3), ...lines.slice(3)]);
      const report = await verifyAudit({ dataDir: t.dir, ledgerHead: head });
      assertProblem(report, { file: FILE, line: 1, code: "bad_mac" });
    });
    // the other bank's whole file in place of ours
    await withLog(async (t) => {
      await Deno.copyFile(logPath(other.dir), logPath(t.dir));
      const report = await verifyAudit({ dataDir: t.dir });
      assertProblem(report, { file: FILE, line: 1, code: "wrong_key" });
    });
  } finally {
    await other.cleanup();
  }
});

Deno.test("verifyAudit() reports a key from another bank as the wrong key", async () => {
  const other = await makeAuditDir();
  try {
    await withLog(async (t, head) => {
      const epochKey = `${t.dir}/${PATHS.epochKey}`;
      await Deno.copyFile(`${other.dir}/${PATHS.epochKey}`, epochKey);
      const report = await verifyAudit({ dataDir: t.dir, ledgerHead: head });
      assertProblem(report, {
        file: FILE,
        line: 1,
        code: "wrong_key",
        message: "No record of epoch 0 verifies with this key (seq 1 to 20)",
      });
    });
    await withLog(async (t) => {
      const report = await verifyAudit({ dataDir: t.dir, offlineKeyPath: other.offlineKey });
      assertProblem(report, { file: FILE, line: 1, code: "wrong_key" });
    });
    await withLog(async (t) => {
      // the MACs verify, but the records do not decrypt under another bank's master key
      await Deno.copyFile(`${other.dir}/${PATHS.masterKey}`, `${t.dir}/${PATHS.masterKey}`);
      const report = await verifyAudit({ dataDir: t.dir });
      assertProblem(report, {
        file: FILE,
        line: 1,
        code: "wrong_key",
        message: "Record seq 1 does not decrypt to an event",
      });
    });
  } finally {
    await other.cleanup();
  }
});

Deno.test("verifyAudit() reports malformed lines and a torn last line without crashing", async () => {
  const cases: [string, (lines: string[]) => string, number, string, RegExp][] = [
    [
      "garbage",
      (l) => [...l.slice(0, 3), "garbage", ...l.slice(4)].join("\n") + "\n",
      4,
      "malformed",
      /not JSON/,
    ],
    [
      "spaces",
      (l) => [...l.slice(0, 3), l[3].replace(":", ": "), ...l.slice(4)].join("\n") + "\n",
      4,
      "malformed",
      /canonical/,
    ],
    [
      "torn",
      (l) => l.join("\n") + "\n" + l[0].slice(0, 40),
      RECORDS + 1,
      "truncated",
      /incomplete/,
    ],
    [
      "no final newline",
      (l) => l.join("\n"),
      RECORDS,
      "truncated",
      /incomplete/,
    ],
    [
      "long line",
      (l) => l.join("\n") + "\n" + "x".repeat(40_000) + "\n",
      RECORDS + 1,
      "malformed",
      /longer/,
    ],
  ];
  for (const [name, edit, line, code, message] of cases) {
    await withLog(async (t) => {
      const lines = await readLines(t.dir);
      await Deno.writeTextFile(logPath(t.dir), edit(lines));
      const report = await verifyAudit({ dataDir: t.dir });
      assertProblem(report, { file: FILE, line, code, message });
      assert.ok(report.records < RECORDS + 1, name);
    });
  }
});

Deno.test("verifyAudit() reports the first problem in line order, a bad MAC before a long line", async () => {
  await withLog(async (t) => {
    const lines = await readLines(t.dir);
    lines[4] = withField(lines[4], "ct", flipBase64(JSON.parse(lines[4]).ct));
    const edited = [...lines.slice(0, 10), "x".repeat(40_000), ...lines.slice(10)];
    await Deno.writeTextFile(logPath(t.dir), edited.join("\n") + "\n");
    const report = await verifyAudit({ dataDir: t.dir });
    assertProblem(report, { file: FILE, line: 5, code: "bad_mac", message: /seq 5/ });
    assert.equal(report.records, 4);
  });
});

Deno.test("verifyAudit() reports a missing file in the middle of the numbering", async () => {
  const t = await makeAuditDir();
  try {
    await writeEvents(t.dir, 1500, { rotateBytes: SMALL_FILE_BYTES, batch: 100 });
    await Deno.remove(logPath(t.dir, 2));
    const report = await verifyAudit({ dataDir: t.dir });
    assertProblem(report, {
      file: "audit/audit-000003.jsonl.enc",
      line: 0,
      code: "missing_file",
      message: "Log file audit/audit-000002.jsonl.enc is missing",
    });
  } finally {
    await t.cleanup();
  }
});

Deno.test("verifyAudit() refuses key files others can read and reports missing keys", async () => {
  await withLog(async (t) => {
    const epochKey = `${t.dir}/${PATHS.epochKey}`;
    await Deno.chmod(epochKey, 0o644);
    const insecure = await verifyAudit({ dataDir: t.dir });
    assert.equal(insecure.problem?.code, "insecure_key_file");
    assert.equal(insecure.problem?.file, epochKey);
    await Deno.remove(epochKey);
    const missing = await verifyAudit({ dataDir: t.dir });
    assert.equal(missing.problem?.code, "missing_key");
    assert.equal(missing.problem?.file, epochKey);
  });
});

Deno.test("verifyAudit() checks past epochs only with the offline key", async () => {
  const t = await makeAuditDir();
  try {
    const head = await writeEvents(t.dir, 1500, { rotateBytes: SMALL_FILE_BYTES, batch: 100 });
    const lines = await readLines(t.dir, 1);
    lines[10] = withField(lines[10], "ct", flipBase64(JSON.parse(lines[10]).ct));
    await writeLines(t.dir, lines, 1);
    const server = await verifyAudit({ dataDir: t.dir, ledgerHead: head });
    assert.equal(server.ok, true, "the server's current key cannot see into past epochs");
    assert.ok(server.epochs > 1);
    assert.ok(server.uncheckedRecords > 0);
    assert.equal(server.offlineKey, false);
    const offline = await verifyAudit({
      dataDir: t.dir,
      ledgerHead: head,
      offlineKeyPath: t.offlineKey,
    });
    assertProblem(offline, {
      file: FILE,
      line: 11,
      code: "bad_mac",
      message: "MAC of record seq 11 does not verify",
    });
  } finally {
    await t.cleanup();
  }
});

Deno.test("verifyAudit() with the offline key checks every record of a multi-epoch log", async () => {
  const t = await makeAuditDir();
  try {
    const head = await writeEvents(t.dir, 1500, { rotateBytes: SMALL_FILE_BYTES, batch: 100 });
    const report = await verifyAudit({
      dataDir: t.dir,
      ledgerHead: head,
      offlineKeyPath: t.offlineKey,
    });
    assert.equal(report.ok, true, JSON.stringify(report.problem));
    assert.equal(report.records, 1500);
    assert.equal(report.uncheckedRecords, 0);
    assert.equal(report.epochs, report.files);
    assert.equal(report.firstEpoch, 0);
    assert.equal(report.lastEpoch, report.files - 1);
  } finally {
    await t.cleanup();
  }
});
