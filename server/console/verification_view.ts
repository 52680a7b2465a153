/**
 * Turns an audit verification report into what the console's audit page shows: a one-line
 * verdict and labelled details, worded for an operator.
 *
 * @module
 */

import type { VerifyReport } from "../audit/mod.ts";

/** The audit page's view of one verification. */
export interface VerificationView {
  ok: boolean;
  verdict: string;
  /** Label and value pairs, in display order. */
  details: [string, string | number][];
  checkedAt: string;
  /** The report as `verifyAudit` returned it. */
  report: VerifyReport;
}

/**
 * Words a verification report for the audit page.
 *
 * @param report What `verifyAudit` returned.
 * @param checkedAt When the check ran.
 * @returns The verdict and its details.
 *
 * @example A clean report
 * ```ts
 * import { summarizeVerification } from "./verification_view.ts";
 * const view = summarizeVerification(
 *   { ok: true, records: 3, files: 1, epochs: 1, uncheckedRecords: 0, offlineKey: false },
 *   new Date(0),
 * );
 * if (!view.verdict.startsWith("Verified")) throw new Error(view.verdict);
 * ```
 */
export function summarizeVerification(report: VerifyReport, checkedAt: Date): VerificationView {
  const details: [string, string | number][] = [
    ["Records checked", report.records],
    ["Log files", report.files],
    ["Key epochs", report.epochs],
  ];
  if (report.firstAt !== undefined) details.push(["First record", report.firstAt]);
  if (report.lastAt !== undefined) details.push(["Last record", report.lastAt]);
  if (report.uncheckedRecords > 0) {
    details.push([
      "MACs not checked",
      `${report.uncheckedRecords} records of past epochs (verify with the offline key)`,
    ]);
  }
  const problem = report.problem;
  if (problem !== undefined) {
    const where = problem.line > 0 ? `${problem.file}, line ${problem.line}` : problem.file;
    details.push(["Problem", `${problem.message} (${problem.code})`]);
    if (where !== "") details.push(["Where", where]);
  }
  const verdict = report.ok
    ? `Verified: ${report.records} records, chain intact and up to the ledger's head`
    : "NOT VERIFIED: the audit log has a problem";
  return { ok: report.ok, verdict, details, checkedAt: checkedAt.toISOString(), report };
}
