/**
 * `bank audit --verify --data DIR1 --data DIR2 … [--db URL]`: checks the audit logs of several
 * bank servers on one shared ledger together, and reports every committed journal entry that no
 * log holds. Exit code 0 when everything verified, 1 otherwise.
 *
 * @module
 */

import { formatCents } from "../../lib/amount.ts";
import { type LogReport, type MultiVerifyReport, verifyAuditLogs } from "../audit/multi_verify.ts";
import { dataDirPaths } from "../data_dir.ts";
import { ledgerLocation, openLedger } from "../ledger/open_ledger.ts";
import { CliError, EXIT } from "./cli_error.ts";

/** What the multi-log check is given. */
export interface AuditMultiFlags {
  /** Two or more data directories, one per server. */
  dataDirs: string[];
  /** The shared ledger; without it, the SQLite ledger of the first data directory. */
  db?: string;
}

/**
 * Verifies the logs together and prints a summary on stdout.
 *
 * @param flags The data directories and the ledger.
 * @throws {CliError} When a directory is missing, the ledger cannot be read, or the check fails.
 */
export async function runAuditMulti(flags: AuditMultiFlags): Promise<void> {
  for (const dir of flags.dataDirs) {
    const isDir = await Deno.stat(dir).then((info) => info.isDirectory, () => false);
    if (!isDir) throw new CliError(`no data directory at ${dir}`);
  }
  const location = ledgerLocation(flags.db, dataDirPaths(flags.dataDirs[0]).ledger);
  if (location.kind === "sqlite") {
    // one SQLite ledger belongs to one server; reading it must not create it
    const exists = await Deno.lstat(location.path).then(() => true, () => false);
    if (!exists) throw new CliError(`no ledger at ${location.path}: give --db URL`, EXIT.usage);
  }
  const store = await openLedger(location);
  let report: MultiVerifyReport;
  try {
    report = await verifyAuditLogs(flags.dataDirs, {
      journalAfter: (after, limit) => store.journalAfter(after, limit),
      auditHead: (serverId) => store.auditHead(serverId),
    });
  } finally {
    await store.close();
  }
  console.log(formatMultiReport(report));
  if (!report.ok) throw new CliError("the audit logs did not verify (see above)");
}

/**
 * The summary as printed.
 *
 * @param report The check's outcome.
 * @returns Lines of text.
 */
export function formatMultiReport(report: MultiVerifyReport): string {
  const lines = report.logs.map(formatLog);
  const held = report.journalEntries - report.missingCount;
  lines.push(
    `journal  ${report.journalEntries} entries, ${held} held by a log, ` +
      `${report.missingCount} by none`,
  );
  for (const entry of report.missing) {
    const request = entry.requestId === null ? "" : ` request ${entry.requestId}`;
    lines.push(
      `missing  entry ${entry.entryId}: ${entry.kind} ${formatCents(entry.amountCents)} at ` +
        `${entry.at} by ${entry.serverId ?? "an administrative command"}${request}`,
    );
  }
  if (report.missingCount > report.missing.length) {
    lines.push(`missing  … and ${report.missingCount - report.missing.length} more`);
  }
  if (report.duplicateServer !== undefined) {
    lines.push(`servers  two logs name the same server ${report.duplicateServer}`);
  }
  lines.push(`result   ${report.ok ? "OK" : "FAILED"}`);
  return lines.join("\n");
}

function formatLog(log: LogReport): string {
  const name = log.serverId ?? "(empty log)";
  const macs = log.uncheckedRecords === 0
    ? "every MAC checked"
    : `${log.records - log.uncheckedRecords} of ${log.records} MACs checked (older epochs need ` +
      "--offline-key with one --data)";
  const result = log.problem === undefined
    ? "OK"
    : `FAILED: ${log.problem.file ? `${log.problem.file} line ${log.problem.line}: ` : ""}` +
      `${log.problem.code}: ${log.problem.message}`;
  return `server   ${name} in ${log.dataDir}: ${log.records} records, ${log.entries} entries, ` +
    `${macs}; ${result}`;
}
