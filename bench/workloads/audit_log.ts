/**
 * The audit log at scale: a log of many records written through the bank's real `AuditLog`
 * writer (encrypted, chained, fsynced per batch), then `bank audit --verify` and
 * `bank audit --decrypt` run on it as the operator runs them, against reading and JSON-parsing
 * the same number of plaintext lines (the decrypted output itself) in a process of its own.
 *
 * @module
 */

import { auditPaths } from "../../server/audit/audit_keys.ts";
import { AuditLog, initAuditKeys } from "../../server/audit/mod.ts";
import { openDataDir } from "../../server/data_dir.ts";
import { openSqliteStore } from "../../server/ledger/sqlite_store.ts";
import { REPO_ROOT } from "../child.ts";

/** Server id of the generated log, as `bank audit` expects by default. */
const SERVER_ID = "bank-1";

/** Records appended between two flushes while generating (the bank flushes per batch). */
const RECORDS_PER_FLUSH = 8_192;

/** One timed command. */
export interface TimedCommand {
  seconds: number;
  recordsPerSecond: number;
}

/** What the audit measurement found. */
export interface AuditResult {
  records: number;
  logBytes: number;
  files: number;
  generateSeconds: number;
  verify: TimedCommand;
  decrypt: TimedCommand;
  plaintext: TimedCommand & { bytes: number };
}

function txEvent(i: number): Record<string, unknown> & { type: string } {
  const kinds = ["deposit", "withdraw", "transfer"] as const;
  const op = kinds[i % kinds.length];
  const cents = 100 + (i % 9_900);
  return {
    type: "tx",
    requestId: `r${i.toString(36)}-${(i * 2_654_435_761 >>> 0).toString(36)}`,
    atmId: `atm-${String(i % 1_000).padStart(5, "0")}`,
    customer: `cust-${String(i % 1_000).padStart(5, "0")}`,
    op,
    amountCents: cents,
    amount: (cents / 100).toFixed(2),
    counterparty: op === "transfer"
      ? `cust-${String((i + 1) % 1_000).padStart(5, "0")}`
      : undefined,
    result: "ok",
    replayed: false,
    entryId: i + 1,
    balanceCents: 10_000_000 + i,
  };
}

/**
 * Writes `records` transaction events to a new data directory's audit log through `AuditLog`,
 * storing the chain head in the ledger as the bank does.
 *
 * @param dataDir An empty directory.
 * @param records How many records.
 * @returns Seconds taken, and where the offline verification key is.
 */
export async function generateAuditLog(
  dataDir: string,
  records: number,
): Promise<{ seconds: number; offlineKeyPath: string }> {
  const started = performance.now();
  await openDataDir(dataDir);
  const { offlineKeyPath } = await initAuditKeys({ dataDir });
  const store = await openSqliteStore(`${dataDir}/ledger.sqlite`);
  try {
    const log = await AuditLog.open({
      dataDir,
      serverId: SERVER_ID,
      ledgerHead: await store.auditHead(SERVER_ID),
    });
    for (let i = 0; i < records; i++) {
      log.append(txEvent(i));
      if ((i + 1) % RECORDS_PER_FLUSH === 0) await store.setAuditHead(await log.flush());
    }
    await store.setAuditHead(await log.flush());
    await log.close();
  } finally {
    await store.close();
  }
  return { seconds: (performance.now() - started) / 1000, offlineKeyPath };
}

async function logSize(dataDir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  const logDir = auditPaths(dataDir).logDir;
  for await (const entry of Deno.readDir(logDir)) {
    if (!entry.isFile) continue;
    bytes += (await Deno.stat(`${logDir}/${entry.name}`)).size;
    files++;
  }
  return { bytes, files };
}

/**
 * Runs `deno ARGS` and times it. With `stdoutPath` its stdout goes straight into that file, as
 * `> FILE` in a shell would (through `sh`, the path and arguments passed as parameters, never
 * parsed as shell text), not through this process: copying hundreds of megabytes through a pipe
 * here would take a core from the command measured, which uses both (docs/performance.md).
 *
 * @returns Seconds from start to exit, and the stdout text when small (none with `stdoutPath`).
 */
async function timeDeno(
  args: string[],
  stdoutPath?: string,
): Promise<{ seconds: number; text: string }> {
  const [program, programArgs] = stdoutPath === undefined ? [Deno.execPath(), args] : ["sh", [
    "-c",
    'out="$1"; shift; exec "$@" > "$out"',
    "sh",
    stdoutPath,
    Deno.execPath(),
    ...args,
  ]];
  const started = performance.now();
  const child = new Deno.Command(program, {
    args: programArgs,
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let text = "";
  const stdout = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      if (text.length < 4096) text += chunk;
    }
  })();
  const stderr = new Response(child.stderr).text();
  const [status] = await Promise.all([child.status, stdout]);
  const seconds = (performance.now() - started) / 1000;
  const errors = await stderr;
  if (!status.success) {
    throw new Error(`deno ${args.join(" ")} exited with ${status.code}: ${errors.trim()}`);
  }
  return { seconds, text };
}

/**
 * Generates the log, then times verify, decrypt and the plaintext baseline.
 *
 * @param dataDir An empty scratch directory for the log's data directory.
 * @param plainPath Where the decrypted lines go (the baseline's input).
 * @param records How many records.
 * @returns Rates and sizes.
 * @throws {Error} When a command fails or reports a different record count.
 */
export async function measureAuditLog(
  dataDir: string,
  plainPath: string,
  records: number,
): Promise<AuditResult> {
  const generated = await generateAuditLog(dataDir, records);
  const { bytes: logBytes, files } = await logSize(dataDir);
  const audit = ["run", "--quiet", "-P=bank", "server/main.ts", "audit", "--data", dataDir];
  // With the offline key every epoch's MACs are checked, not only the current epoch's.
  const keyArgs = ["--offline-key", generated.offlineKeyPath];

  const verified = await timeDeno([...audit, "--verify", ...keyArgs]);
  const verifiedRecords = Number(verified.text.match(/^records\s+(\d+)/m)?.[1]);
  if (verifiedRecords !== records || !/result\s+OK/.test(verified.text)) {
    throw new Error(`bank audit --verify did not check ${records} records:\n${verified.text}`);
  }
  const decrypted = await timeDeno([...audit, "--decrypt", ...keyArgs], plainPath);
  const plain = await timeDeno([
    "run",
    "--quiet",
    `--allow-read=${plainPath}`,
    "bench/baselines/plain_lines.ts",
    plainPath,
  ]);
  const lines = Number(plain.text.match(/lines=(\d+)/)?.[1]);
  if (lines !== records) {
    throw new Error(`bank audit --decrypt printed ${lines} lines, expected ${records}`);
  }
  const rate = (seconds: number) => ({ seconds, recordsPerSecond: records / seconds });
  return {
    records,
    logBytes,
    files,
    generateSeconds: generated.seconds,
    verify: rate(verified.seconds),
    decrypt: rate(decrypted.seconds),
    plaintext: { ...rate(plain.seconds), bytes: (await Deno.stat(plainPath)).size },
  };
}
