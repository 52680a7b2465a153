/**
 * `bank audit --decrypt` reads in bounded memory. The real process runs with V8's heap capped at
 * HEAP_CAP_MIB and decrypts a log whose output is several times that size: a reader that held
 * the events (or the output) would die of heap exhaustion. Sized to run in about 20 seconds; the
 * full million records is `deno run -P=test server/audit/million_check.ts` (docs/audit-log.md).
 */

import assert from "node:assert/strict";
import { makeAuditDir, measureBankAudit, writeManyEvents } from "./_test_support.ts";

/** Records of about 6 KB each: some 100 MB of decrypted JSON. */
const RECORDS = 16_000;
const PADDING_CHARS = 6_000;

/** The heap the process may use: twice what the bank's modules need to start (8 MiB is too
 * little to start, 12 MiB runs). Holding the events would take more than four times as much. */
const HEAP_CAP_MIB = 24;

Deno.test("bank audit --decrypt prints a log four times larger than its capped heap", async () => {
  const t = await makeAuditDir();
  try {
    await writeManyEvents(t.dir, RECORDS, { paddingChars: PADDING_CHARS });
    const run = await measureBankAudit(
      ["--decrypt", "--offline-key", t.offlineKey, "--data", t.dir],
      { heapMib: HEAP_CAP_MIB },
    );
    assert.equal(run.code, 0, `exit ${run.code}, peak ${run.peakKib} KiB:\n${run.stderr}`);
    assert.equal(run.lines, RECORDS, "every record printed");
    let logBytes = 0;
    for (const entry of Deno.readDirSync(`${t.dir}/audit`)) {
      if (entry.name.endsWith(".jsonl.enc")) {
        logBytes += Deno.statSync(`${t.dir}/audit/${entry.name}`).size;
      }
    }
    assert.ok(logBytes > 4 * HEAP_CAP_MIB * 1024 * 1024, `the log is only ${logBytes} bytes`);
  } finally {
    await t.cleanup();
  }
});
