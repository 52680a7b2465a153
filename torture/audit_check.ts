/**
 * The torture run's verdict on the audit log: `bank audit --verify` must pass, and the decrypted
 * log must hold exactly one record for every committed journal entry (a `tx` record answered ok
 * and not a replay, or an `opening` record), and none for an entry the ledger does not have.
 *
 * @module
 */

import type { JournalEntry } from "../server/ledger/store.ts";
import { runCommand } from "../server/testing/bank_process.ts";
import { Problems } from "./ledger_check.ts";

/** One decrypted audit event as `bank audit --decrypt` prints it (only the fields used here). */
export interface AuditLine {
  type: string;
  entryId?: number;
  result?: string;
  replayed?: boolean;
  requestId?: string;
}

/** The verdict. */
export interface AuditVerdict {
  /** `bank audit --verify` exit code and summary. */
  verifyCode: number;
  verifySummary: string;
  /** Records read. */
  records: number;
  /** Records that stand for a committed entry. */
  committedRecords: number;
  problems: string[];
}

/**
 * True for a record that stands for a committed journal entry.
 *
 * @param line A decrypted event.
 * @returns Whether it records the commit of `line.entryId`.
 */
export function isCommitRecord(line: AuditLine): boolean {
  if (typeof line.entryId !== "number") return false;
  if (line.type === "opening") return true;
  return line.type === "tx" && line.result === "ok" && line.replayed !== true;
}

/**
 * Checks that every journal entry has exactly one commit record and no commit record names an
 * entry the ledger lacks or names it with another request id.
 *
 * @param lines The decrypted audit events.
 * @param entries Every journal entry.
 * @returns Problems in words (the first few of each kind, in the order found) and the number
 *   of commit records.
 */
export function checkAuditRecords(
  lines: readonly AuditLine[],
  entries: readonly JournalEntry[],
): { problems: string[]; committedRecords: number } {
  const counts = new Map<number, AuditLine[]>();
  let committedRecords = 0;
  for (const line of lines) {
    if (!isCommitRecord(line)) continue;
    committedRecords++;
    const list = counts.get(line.entryId!) ?? [];
    list.push(line);
    counts.set(line.entryId!, list);
  }
  const problems = new Problems();
  for (const entry of entries) {
    const records = counts.get(entry.entryId) ?? [];
    if (records.length === 0) {
      problems.add("audit missing", `entry ${entry.entryId} has no audit record`);
    }
    if (records.length > 1) {
      problems.add("audit doubled", `entry ${entry.entryId} has ${records.length} records`);
    }
    for (const record of records) {
      if (record.type === "tx" && record.requestId !== entry.requestId) {
        problems.add(
          "audit wrong",
          `entry ${entry.entryId}: record names request ${record.requestId}`,
        );
      }
    }
    counts.delete(entry.entryId);
  }
  for (const id of counts.keys()) {
    problems.add("audit stray", `audit names entry ${id}, the ledger has none`);
  }
  return { problems: problems.finish(), committedRecords };
}

/**
 * Runs `bank audit --verify` and `bank audit --decrypt` on a stopped bank's data directory and
 * checks the records against the journal.
 *
 * @param dataDir The data directory.
 * @param entries Every journal entry of its ledger.
 * @returns The verdict.
 */
export async function checkAuditLog(
  dataDir: string,
  entries: readonly JournalEntry[],
): Promise<AuditVerdict> {
  const problems: string[] = [];
  const verify = await runCommand("bank", ["audit", "--verify", "--data", dataDir]);
  const verifySummary = `${verify.stdout}${verify.stderr}`.trim();
  if (verify.code !== 0) problems.push(`bank audit --verify exited ${verify.code}`);
  const decrypt = await runCommand("bank", ["audit", "--decrypt", "--data", dataDir]);
  if (decrypt.code !== 0) {
    problems.push(`bank audit --decrypt exited ${decrypt.code}: ${decrypt.stderr.trim()}`);
  }
  const lines: AuditLine[] = [];
  for (const text of decrypt.stdout.split("\n")) {
    if (text.trim() === "") continue;
    try {
      lines.push(JSON.parse(text) as AuditLine);
    } catch {
      problems.push(`bank audit --decrypt printed a line that is not JSON`);
      break;
    }
  }
  const checked = checkAuditRecords(lines, entries);
  problems.push(...checked.problems);
  return {
    verifyCode: verify.code,
    verifySummary,
    records: lines.length,
    committedRecords: checked.committedRecords,
    problems,
  };
}
