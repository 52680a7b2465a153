/**
 * The full-size check behind `decrypt_memory_test.ts`: writes an audit log of a million records
 * through the real writer, then runs `bank audit --decrypt` and `bank audit --verify` (both with
 * the offline key, so every MAC is checked) as real processes with V8's heap capped, and reports
 * their peak memory and time. Exits non-zero when a command fails or misses a record.
 *
 * ```sh
 * deno run -P=test server/audit/million_check.ts [--records 1000000] [--heap-mib 24] [--keep]
 * ```
 *
 * Takes a few minutes and about 350 MB of disk in a temporary directory (removed unless --keep).
 *
 * @module
 */

import { AuditLog } from "./audit_log.ts";
import { makeAuditDir, measureBankAudit, type MeasuredRun, testEvent } from "./_test_support.ts";

/** Records appended between flushes while generating, as a busy bank's batches would. */
const RECORDS_PER_FLUSH = 5_000;

/** Progress is printed after each this many records. */
const PROGRESS_EVERY = 100_000;

function flag(name: string, fallback: number): number {
  const at = Deno.args.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(Deno.args[at + 1]);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`${name} needs a positive integer`);
  }
  return value;
}

function report(label: string, run: MeasuredRun, expectedLines: number): boolean {
  const ok = run.code === 0 && run.lines === expectedLines;
  console.log(
    `${label.padEnd(8)} exit ${run.code}  lines ${run.lines}  peak ${
      (run.peakKib / 1024).toFixed(1)
    } MiB  ${run.seconds.toFixed(1)} s${ok ? "" : "  FAILED"}`,
  );
  if (!ok) console.log(run.stderr);
  return ok;
}

async function main(): Promise<number> {
  const records = flag("--records", 1_000_000);
  const heapMib = flag("--heap-mib", 24);
  const t = await makeAuditDir();
  try {
    console.log(`writing ${records} records to ${t.dir}`);
    const started = performance.now();
    const log = await AuditLog.open({ dataDir: t.dir, serverId: "bank-1" });
    try {
      for (let n = 1; n <= records; n++) {
        log.append(testEvent(n));
        if (n % RECORDS_PER_FLUSH === 0) await log.flush();
        if (n % PROGRESS_EVERY === 0) console.log(`  ${n} written`);
      }
    } finally {
      await log.close();
    }
    console.log(`written in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const keyArgs = ["--offline-key", t.offlineKey, "--data", t.dir];
    const decrypt = await measureBankAudit(["--decrypt", ...keyArgs], { heapMib });
    const verify = await measureBankAudit(["--verify", ...keyArgs], { heapMib });
    console.log(`heap capped at ${heapMib} MiB:`);
    const decrypted = report("decrypt", decrypt, records);
    const verified = report("verify", verify, 6) &&
      verify.stdoutHead.includes(`records  ${records}\n`) &&
      /^result {3}OK$/m.test(verify.stdoutHead);
    console.log(verify.stdoutHead.trimEnd());
    return decrypted && verified ? 0 : 1;
  } finally {
    if (Deno.args.includes("--keep")) console.log(`kept ${t.dir}`);
    else await t.cleanup();
  }
}

if (import.meta.main) Deno.exit(await main());
