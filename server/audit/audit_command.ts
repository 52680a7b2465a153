/**
 * The body of `bank audit`: `--decrypt` prints checked, decrypted events; `--verify` checks
 * everything and prints a summary. Exit codes: 0 all good, 1 a problem in the log or its keys,
 * 2 bad usage.
 *
 * @module
 */

import { AuditError } from "./audit_error.ts";
import { tableHeader, tableRow } from "./audit_table.ts";
import type { ChainHead } from "./audit_types.ts";
import { decryptAudit, decryptAuditLines, type DecryptSummary, stopReading } from "./decrypt.ts";
import { errorText } from "./key_file.ts";
import { ProgressBar } from "./progress_bar.ts";
import { verifyAudit, type VerifyReport } from "./verify.ts";

/** Exit codes of the command. */
export const AUDIT_EXIT = { ok: 0, problem: 1, usage: 2 } as const;

/** The table (`--pretty`) is written in pieces of about this size: few writes, bounded memory. */
const OUTPUT_CHUNK_CHARS = 64 * 1024;

const ENCODER = new TextEncoder();

/** Flags of `bank audit`. */
export interface AuditCommandOptions {
  dataDir: string;
  decrypt?: boolean;
  verify?: boolean;
  /** ISO time: only events at or after it (with --decrypt). */
  since?: string;
  /** Only events about this customer (with --decrypt). */
  user?: string;
  /** An aligned table instead of JSON Lines (with --decrypt). */
  pretty?: boolean;
  /** The offline key file: every epoch's MACs are checked. */
  offlineKey?: string;
  /** The chain head the ledger holds. */
  ledgerHead?: ChainHead;
}

/** Where the command writes. */
export interface AuditCommandIo {
  stdout: WritableStream<Uint8Array>;
  stderr: WritableStream<Uint8Array>;
  /** Draw a progress bar on stderr for large logs. */
  stderrIsTerminal: boolean;
}

/**
 * Runs `bank audit`. Streams are written and released, never closed.
 *
 * @param options The flags.
 * @param io Output streams.
 * @returns The exit code: 0 good, 1 a problem (named on stderr), 2 bad usage.
 */
export async function runAuditCommand(
  options: AuditCommandOptions,
  io: AuditCommandIo,
): Promise<number> {
  const out = io.stdout.getWriter();
  const err = io.stderr.getWriter();
  const say = (text: string) => err.write(ENCODER.encode(text));
  try {
    const usage = usageProblem(options);
    if (usage !== null) {
      await say(`audit: ${usage}\n`);
      return AUDIT_EXIT.usage;
    }
    const progress = new ProgressBar(err, io.stderrIsTerminal);
    const onProgress = (done: number, total: number) => progress.update(done, total);
    if (options.verify) {
      const report = await verifyAudit({
        dataDir: options.dataDir,
        offlineKeyPath: options.offlineKey,
        ledgerHead: options.ledgerHead,
        onProgress,
      });
      await progress.finish();
      await out.write(ENCODER.encode(formatReport(report)));
      return report.ok ? AUDIT_EXIT.ok : AUDIT_EXIT.problem;
    }
    const summary = await printEvents(options, { out, onProgress });
    await progress.finish();
    if (summary.uncheckedRecords > 0) await say(uncheckedWarning(summary));
    return AUDIT_EXIT.ok;
  } catch (error) {
    await say(`audit: ${describe(error)}\n`).catch(() => {});
    return AUDIT_EXIT.problem;
  } finally {
    out.releaseLock();
    err.releaseLock();
  }
}

function usageProblem(options: AuditCommandOptions): string | null {
  if (Boolean(options.decrypt) === Boolean(options.verify)) {
    return "give exactly one of --decrypt or --verify";
  }
  if (options.since !== undefined && Number.isNaN(Date.parse(options.since))) {
    return `--since: not an ISO time: ${JSON.stringify(options.since)}`;
  }
  const decryptOnly = [options.since, options.user, options.pretty].some((v) => v !== undefined);
  if (options.verify && decryptOnly) return "--since, --user and --pretty go with --decrypt";
  if (options.user !== undefined && options.user.length === 0) return "--user: empty name";
  return null;
}

async function printEvents(
  options: AuditCommandOptions,
  sink: {
    out: WritableStreamDefaultWriter<Uint8Array>;
    onProgress: (d: number, t: number) => void;
  },
): Promise<DecryptSummary> {
  const decryptOptions = {
    dataDir: options.dataDir,
    since: options.since === undefined ? undefined : new Date(options.since),
    user: options.user,
    offlineKeyPath: options.offlineKey,
    ledgerHead: options.ledgerHead,
    onProgress: sink.onProgress,
  };
  if (!options.pretty) {
    const pieces = decryptAuditLines(decryptOptions);
    try {
      for (let next = await pieces.next();; next = await pieces.next()) {
        if (next.done) return next.value;
        if (next.value.length > 0) await sink.out.write(next.value);
      }
    } finally {
      await stopReading(pieces); // when a write fails (a closed pipe)
    }
  }
  const events = decryptAudit(decryptOptions);
  let buffered = tableHeader();
  const emit = async () => {
    if (buffered.length > 0) await sink.out.write(ENCODER.encode(buffered));
    buffered = "";
  };
  try {
    for (let next = await events.next();; next = await events.next()) {
      if (next.done) return next.value;
      buffered += tableRow(next.value);
      if (buffered.length >= OUTPUT_CHUNK_CHARS) await emit();
    }
  } finally {
    await stopReading(events);
    await emit(); // what verified before a problem is still printed, then the problem
  }
}

function formatReport(report: VerifyReport): string {
  const epochs = report.firstEpoch === undefined
    ? "0"
    : `${report.epochs} (${report.firstEpoch}..${report.lastEpoch})`;
  const checked = report.offlineKey
    ? "every epoch (offline key)"
    : report.uncheckedRecords === 0
    ? "every record"
    : `${report.records - report.uncheckedRecords} of ${report.records} records; older epochs ` +
      "need --offline-key";
  const span = report.firstAt === undefined ? "-" : `${report.firstAt} .. ${report.lastAt}`;
  const result = report.problem === undefined
    ? "OK"
    : `FAILED: ${place(report.problem.file, report.problem.line)}${report.problem.code}: ` +
      report.problem.message;
  return [
    `records  ${report.records}`,
    `files    ${report.files}`,
    `span     ${span}`,
    `epochs   ${epochs}`,
    `MACs     ${checked}`,
    `result   ${result}`,
    "",
  ].join("\n");
}

function uncheckedWarning(summary: DecryptSummary): string {
  return `audit: warning: the MACs of ${summary.uncheckedRecords} records (epochs up to ` +
    `${summary.uncheckedEpochMax}) were not checked: their keys are only derivable from the ` +
    "offline key (--offline-key FILE)\n";
}

function describe(error: unknown): string {
  if (error instanceof AuditError) {
    return `${place(error.file ?? "", error.line ?? 0)}${error.code}: ${error.detail}`;
  }
  return `unexpected error: ${errorText(error)}`;
}

function place(file: string, line: number): string {
  if (file === "") return "";
  return line > 0 ? `${file} line ${line}: ` : `${file}: `;
}
