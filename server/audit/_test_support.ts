/**
 * Test support for the audit log: temporary data directories, logs written through the real
 * writer, and line-level editing of log files for tamper tests. Not used by the bank.
 *
 * @module
 */

import { AuditLog, type AuditLogOptions } from "./audit_log.ts";
import { initAuditKeys } from "./audit_keys.ts";
import type { AuditEvent, ChainHead, StampedEvent } from "./audit_types.ts";
import { decryptAudit } from "./decrypt.ts";
import { logFileName } from "./log_files.ts";
import { FILE_BYTES_MIN } from "./constants.ts";

/** Rotation size used by tests that want several files: the smallest the writer accepts. */
export const SMALL_FILE_BYTES = FILE_BYTES_MIN;

/** A data directory with audit keys, removed by `cleanup`. */
export interface TestDir {
  dir: string;
  offlineKey: string;
  cleanup(): Promise<void>;
}

/**
 * Creates a temporary data directory with fresh audit keys.
 *
 * @returns The directory.
 */
export async function makeAuditDir(): Promise<TestDir> {
  const dir = await Deno.makeTempDir({ prefix: "audit-test-" });
  const keys = await initAuditKeys({ dataDir: dir });
  return {
    dir,
    offlineKey: keys.offlineKeyPath,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

/**
 * The n-th test event: a transaction of one of three customers, with an entry id.
 *
 * @param n 1-based number.
 * @returns The event.
 */
export function testEvent(n: number): AuditEvent {
  const customers = ["alice", "bob", "carol"];
  return {
    type: "tx",
    customer: customers[n % 3],
    op: "deposit",
    amountCents: n,
    entryId: n,
    requestId: `req-${n}`,
  };
}

/**
 * Appends events through the real writer and closes it.
 *
 * @param dir The data directory.
 * @param count How many test events.
 * @param options Writer options besides the directory; flushes every `batch` events.
 * @returns The final chain head.
 */
export async function writeEvents(
  dir: string,
  count: number,
  options: Partial<AuditLogOptions> & { batch?: number; first?: number } = {},
): Promise<ChainHead> {
  const log = await AuditLog.open({ serverId: "bank-1", ...options, dataDir: dir });
  const batch = options.batch ?? 50;
  const first = options.first ?? 1;
  try {
    for (let n = first; n < first + count; n++) {
      log.append(testEvent(n));
      if ((n - first + 1) % batch === 0) await log.flush();
    }
    return await log.flush();
  } finally {
    await log.close();
  }
}

/**
 * Decrypts a whole log into memory; for small test logs only.
 *
 * @param dir The data directory.
 * @param offlineKeyPath The offline key file, to check every epoch's MACs.
 * @returns Every event, in order.
 */
export async function allEvents(dir: string, offlineKeyPath?: string): Promise<StampedEvent[]> {
  const events: StampedEvent[] = [];
  for await (const event of decryptAudit({ dataDir: dir, offlineKeyPath })) events.push(event);
  return events;
}

/**
 * Opens a log as server "bank-1" that keeps the seq of every head it reports through
 * `onAutoFlush`, where the bank would store it in the ledger.
 *
 * @param dir The data directory.
 * @returns The open log (close it) and the reported seqs, oldest first.
 */
export async function openRecordingHeads(dir: string): Promise<{ log: AuditLog; heads: number[] }> {
  const heads: number[] = [];
  const log = await AuditLog.open({
    dataDir: dir,
    serverId: "bank-1",
    onAutoFlush: (head) => {
      heads.push(head.seq);
    },
  });
  return { log, heads };
}

/**
 * Path of a log file.
 *
 * @param dir The data directory.
 * @param index The file number.
 * @returns Its path.
 */
export function logPath(dir: string, index = 1): string {
  return `${dir}/${logFileName(index)}`;
}

/**
 * The lines of a log file, without their newlines.
 *
 * @param dir The data directory.
 * @param index The file number.
 * @returns The lines.
 */
export async function readLines(dir: string, index = 1): Promise<string[]> {
  const text = await Deno.readTextFile(logPath(dir, index));
  return text.split("\n").slice(0, -1);
}

/**
 * Replaces a log file's lines.
 *
 * @param dir The data directory.
 * @param lines The new lines (newlines added).
 * @param index The file number.
 */
export async function writeLines(dir: string, lines: string[], index = 1): Promise<void> {
  await Deno.writeTextFile(logPath(dir, index), lines.map((line) => `${line}\n`).join(""));
}

/**
 * Edits one field of one line's JSON, keeping the canonical layout.
 *
 * @param line The line.
 * @param field The field name.
 * @param value The new value.
 * @returns The edited line.
 */
export function withField(line: string, field: string, value: unknown): string {
  const record = JSON.parse(line);
  record[field] = value;
  return JSON.stringify(record);
}

/**
 * Flips one character of a base64url text to another valid one, keeping it canonical (the last
 * character may carry unused bits, so the first is changed).
 *
 * @param text The base64url text.
 * @returns The changed text.
 */
export function flipBase64(text: string): string {
  return (text[0] === "A" ? "B" : "A") + text.slice(1);
}

/**
 * Appends events padded to about `paddingChars` more characters each, in large batches, for
 * memory and scale measurements: large events make any per-record retention show.
 *
 * @param dir The data directory.
 * @param count How many.
 * @param options `first`: number of the first (continues an earlier call) [1];
 * `paddingChars`: extra characters per event [0].
 * @returns The chain head.
 */
export function writeManyEvents(
  dir: string,
  count: number,
  options: { first?: number; paddingChars?: number } = {},
): Promise<ChainHead> {
  const padding = options.paddingChars ?? 0;
  return writeEventsWith(dir, count, options.first ?? 1, (n) => {
    const event = testEvent(n);
    return padding === 0 ? event : { ...event, note: String(n % 10).repeat(padding) };
  });
}

async function writeEventsWith(
  dir: string,
  count: number,
  first: number,
  event: (n: number) => AuditEvent,
): Promise<ChainHead> {
  const log = await AuditLog.open({ serverId: "bank-1", dataDir: dir });
  try {
    for (let n = first; n < first + count; n++) {
      log.append(event(n));
      if ((n - first + 1) % 5_000 === 0) await log.flush();
    }
    return await log.flush();
  } finally {
    await log.close();
  }
}

/** What one measured `bank audit` run did. */
export interface MeasuredRun {
  code: number;
  /** Lines it printed on stdout (counted as they stream, never held). */
  lines: number;
  /** The first STDOUT_HEAD_CHARS of stdout. */
  stdoutHead: string;
  /** Peak resident memory of the process in KiB, as /usr/bin/time reports it. */
  peakKib: number;
  seconds: number;
  stderr: string;
}

/** Characters of stdout a measured run keeps (a summary; never a whole decrypted log). */
const STDOUT_HEAD_CHARS = 4_096;

/** GNU time, which reports a child's peak resident memory. */
const GNU_TIME = "/usr/bin/time";

/**
 * Runs `bank audit ARGS` as a real process under /usr/bin/time and measures its peak memory.
 *
 * @param args Arguments after `bank audit`.
 * @param options `heapMib`: cap V8's old generation, so a process holding more dies.
 * @returns Exit code, stdout line count, peak RSS and duration.
 * @throws {Error} When /usr/bin/time is missing.
 */
export async function measureBankAudit(
  args: string[],
  options: { heapMib?: number } = {},
): Promise<MeasuredRun> {
  try {
    await Deno.stat(GNU_TIME);
  } catch {
    throw new Error(`${GNU_TIME} is needed to measure peak memory (Debian package "time")`);
  }
  const root = new URL("../../", import.meta.url).pathname;
  const started = performance.now();
  const child = new Deno.Command(GNU_TIME, {
    args: [
      "-f",
      "peak-kib=%M",
      Deno.execPath(),
      "run",
      ...(options.heapMib === undefined
        ? []
        : [`--v8-flags=--max-old-space-size=${options.heapMib}`]),
      "--quiet",
      "-P=bank",
      "server/main.ts",
      "audit",
      ...args,
    ],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let lines = 0;
  let stdoutHead = "";
  const decoder = new TextDecoder();
  const counting = child.stdout.pipeTo(
    new WritableStream({
      write(chunk) {
        for (const byte of chunk) if (byte === 10) lines++;
        if (stdoutHead.length < STDOUT_HEAD_CHARS) {
          stdoutHead += decoder.decode(chunk.subarray(0, STDOUT_HEAD_CHARS));
        }
      },
    }),
  );
  const [status, stderrBytes] = await Promise.all([
    child.status,
    new Response(child.stderr).arrayBuffer(),
    counting,
  ]);
  const stderr = new TextDecoder().decode(stderrBytes);
  const peak = /peak-kib=(\d+)/.exec(stderr);
  if (peak === null) throw new Error(`no peak memory reported:\n${stderr}`);
  return {
    code: status.code,
    lines,
    stdoutHead,
    peakKib: Number(peak[1]),
    seconds: (performance.now() - started) / 1000,
    stderr: stderr.replace(/^peak-kib=\d+\n?/m, ""),
  };
}
