/**
 * Turns measured results into the report's rows: each figure, the baseline it is divided by, the
 * ratio, and the issue's target where there is one (met, not met, or not judged). The same rows
 * feed the stdout table, the JSON file and the chart.
 *
 * @module
 */

import { TARGET_LEVEL } from "./config.ts";
import type { BenchResults } from "./results_model.ts";
import { roundFigure } from "./stats.ts";
import type { ClosedLoopResult } from "./closed_loop.ts";

/** How a row's target is judged. */
export type TargetRule =
  | { kind: "ratio_at_least"; value: number }
  | { kind: "ratio_above"; value: number }
  | { kind: "value_below"; value: number }
  | { kind: "value_at_most"; value: number };

/** One line of the report. */
export interface ReportRow {
  /** Stable id for scripts, e.g. `tx_100_vs_fsync`. */
  id: string;
  figure: string;
  value: number | null;
  unit: string;
  /** Latency or other detail, for the table. */
  detail?: string;
  baseline?: string;
  baselineValue?: number | null;
  baselineUnit?: string;
  ratio?: number | null;
  target?: string;
  targetRule?: TargetRule;
  /** true met, false not met, null not judged (no target, or a figure is missing). */
  met: boolean | null;
  /** Why a figure is missing. */
  note?: string;
}

function latencyDetail(result: ClosedLoopResult): string {
  const ms = (value: number) => `${roundFigure(value)}`;
  return `p50 ${ms(result.p50Ms)} / p99 ${ms(result.p99Ms)} / max ${ms(result.maxMs)} ms`;
}

function ratioOf(value: number | null, baseline: number | null | undefined): number | null {
  if (value === null || baseline === null || baseline === undefined || baseline <= 0) return null;
  return value / baseline;
}

function judge(row: Omit<ReportRow, "met">): ReportRow {
  const rule = row.targetRule;
  if (!rule) return { ...row, met: null };
  const subject = rule.kind.startsWith("ratio") ? row.ratio : row.value;
  if (subject === null || subject === undefined || Number.isNaN(subject)) {
    return { ...row, met: null };
  }
  const met = rule.kind === "ratio_at_least"
    ? subject >= rule.value
    : rule.kind === "ratio_above"
    ? subject > rule.value
    : rule.kind === "value_below"
    ? subject < rule.value
    : subject <= rule.value;
  return { ...row, met };
}

function atms(count: number): string {
  return count === 1 ? "1 ATM" : `${count.toLocaleString("en-US")} ATMs`;
}

function channelRows(results: BenchResults): ReportRow[] {
  const { handshakes } = results;
  const rows: ReportRow[] = [judge({
    id: "handshakes",
    figure: `Handshakes/s (${handshakes.concurrency} at once)`,
    value: handshakes.bank.perSecond,
    unit: "/s",
    detail: latencyDetail(handshakes.bank),
    baseline: "mutual TLS 1.3",
    baselineValue: handshakes.tls.perSecond,
    baselineUnit: "/s",
    ratio: ratioOf(handshakes.bank.perSecond, handshakes.tls.perSecond),
    target: ">= 2x mutual TLS",
    targetRule: { kind: "ratio_at_least", value: 2 },
  })];
  for (const level of results.roundTrips) {
    rows.push(judge({
      id: `round_trips_${level.atms}`,
      figure: `Round trips/s, ${atms(level.atms)}`,
      value: level.bank.perSecond,
      unit: "/s",
      detail: latencyDetail(level.bank),
      baseline: `mutual TLS 1.3, ${level.atms} conn.`,
      baselineValue: level.tls.perSecond,
      baselineUnit: "/s",
      ratio: ratioOf(level.bank.perSecond, level.tls.perSecond),
      ...(level.atms === TARGET_LEVEL
        ? { target: ">= 1x mutual TLS", targetRule: { kind: "ratio_at_least", value: 1 } as const }
        : {}),
    }));
  }
  return rows;
}

function transactionRows(results: BenchResults): ReportRow[] {
  const rows: ReportRow[] = [];
  const fsync = results.fsyncCeiling.perSecond;
  for (const level of results.transactions) {
    rows.push(judge({
      id: `tx_${level.atms}_vs_fsync`,
      figure: `Durable tx/s, ${atms(level.atms)}`,
      value: level.bank.perSecond,
      unit: "/s",
      detail: latencyDetail(level.bank),
      baseline: "single-fsync SQLite commits",
      baselineValue: fsync,
      baselineUnit: "/s",
      ratio: ratioOf(level.bank.perSecond, fsync),
      ...(level.atms === TARGET_LEVEL
        ? {
          target: ">= 10x fsync ceiling",
          targetRule: { kind: "ratio_at_least", value: 10 } as const,
        }
        : {}),
    }));
  }
  for (const level of results.transactions) {
    const run = results.pgbench.runs.find((r) => r.clients === level.atms);
    const note = results.pgbench.skipped ?? run?.skipped ??
      (run ? undefined : "pgbench was not run at this client count") ??
      (run?.ranWith
        ? `pgbench ran with ${run.ranWith} clients: too few free connections`
        : undefined);
    rows.push(judge({
      id: `tx_${level.atms}_vs_pgbench`,
      figure: `Durable tx/s, ${atms(level.atms)}`,
      value: level.bank.perSecond,
      unit: "/s",
      baseline: `pgbench TPC-B, ${level.atms} clients`,
      baselineValue: run?.tps ?? null,
      baselineUnit: "tps",
      ratio: ratioOf(level.bank.perSecond, run?.tps),
      note,
      ...(level.atms === TARGET_LEVEL
        ? { target: "> pgbench", targetRule: { kind: "ratio_above", value: 1 } as const }
        : {}),
    }));
  }
  const atTarget = results.transactions.find((level) => level.atms === TARGET_LEVEL);
  if (atTarget) {
    rows.push(judge({
      id: `tx_${TARGET_LEVEL}_p99`,
      figure: `p99 latency, ${atms(TARGET_LEVEL)}`,
      value: atTarget.bank.p99Ms,
      unit: "ms",
      target: "< 10 ms",
      targetRule: { kind: "value_below", value: 10 },
    }));
  }
  return rows;
}

function memoryAndAuditRows(results: BenchResults): ReportRow[] {
  const idle = results.idleSessions;
  const rows: ReportRow[] = [];
  if ("skipped" in idle) {
    rows.push(judge({
      id: "idle_session_memory",
      figure: "Bank memory per idle session",
      value: null,
      unit: "KiB",
      note: idle.skipped,
      target: "<= 32 KiB",
      targetRule: { kind: "value_at_most", value: 32 },
    }));
  } else {
    rows.push(judge({
      id: "idle_session_memory",
      figure: `Bank memory per idle session (${idle.sessions.toLocaleString("en-US")})`,
      value: idle.perSessionBytes / 1024,
      unit: "KiB",
      detail: `RSS ${mib(idle.rssBeforeBytes)} -> ${mib(idle.rssAfterBytes)} MiB`,
      target: "<= 32 KiB",
      targetRule: { kind: "value_at_most", value: 32 },
    }));
  }
  const { audit } = results;
  const plain = audit.plaintext.recordsPerSecond;
  for (
    const [id, name, timed] of [
      ["audit_verify", "Audit --verify", audit.verify],
      ["audit_decrypt", "Audit --decrypt", audit.decrypt],
    ] as const
  ) {
    rows.push(judge({
      id,
      figure: `${name} records/s (${audit.records.toLocaleString("en-US")})`,
      value: timed.recordsPerSecond,
      unit: "/s",
      detail: `${roundFigure(timed.seconds)} s`,
      baseline: "plaintext read + JSON.parse",
      baselineValue: plain,
      baselineUnit: "/s",
      ratio: ratioOf(timed.recordsPerSecond, plain),
      target: ">= 0.25x plaintext",
      targetRule: { kind: "ratio_at_least", value: 0.25 },
    }));
  }
  return rows;
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

/**
 * Builds every row of the report.
 *
 * @param results What the run measured.
 * @returns The rows, in the issue's order.
 */
export function buildRows(results: BenchResults): ReportRow[] {
  return [...channelRows(results), ...transactionRows(results), ...memoryAndAuditRows(results)];
}

function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "-";
  return roundFigure(value).toLocaleString("en-US", { maximumFractionDigits: 3 });
}

function metText(met: boolean | null): string {
  return met === null ? "" : met ? "met" : "NOT MET";
}

/**
 * Formats the rows as a plain-text table for stdout.
 *
 * @param rows The report rows.
 * @returns The table, one line per row plus a header.
 */
export function formatTable(rows: readonly ReportRow[]): string {
  const header = ["Figure", "Measured", "Detail", "Baseline", "Ratio", "Target", "Result"];
  const cells = rows.map((row) => [
    row.figure,
    `${formatNumber(row.value)} ${row.unit}`,
    row.detail ?? "",
    row.baseline === undefined
      ? ""
      : `${formatNumber(row.baselineValue)} ${row.baselineUnit ?? ""} ${row.baseline}`,
    row.ratio === undefined ? "" : row.ratio === null ? "-" : `${formatNumber(row.ratio)}x`,
    row.target ?? "",
    [metText(row.met), row.note ? `(${row.note})` : ""].filter((part) => part !== "").join(" "),
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...cells.map((line) => line[i].length))
  );
  const line = (values: string[]) =>
    values.map((value, i) => value.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

/**
 * Formats the rows as a Markdown table, for docs/performance.md.
 *
 * @param rows The report rows.
 * @returns The table.
 */
export function formatMarkdownTable(rows: readonly ReportRow[]): string {
  const escape = (text: string) => text.replaceAll("|", "\\|");
  const lines = [
    "| Figure | Measured | Latency / detail | Baseline | Ratio | Target | Result |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const row of rows) {
    const baseline = row.baseline === undefined
      ? ""
      : `${formatNumber(row.baselineValue)} ${row.baselineUnit ?? ""} ${row.baseline}`;
    const ratio = row.ratio === undefined
      ? ""
      : row.ratio === null
      ? "-"
      : `${formatNumber(row.ratio)}x`;
    const result = [
      row.met === null ? "" : row.met ? "met" : "**not met**",
      row.note ? `(${row.note})` : "",
    ]
      .filter((part) => part !== "").join(" ");
    lines.push(
      `| ${
        [
          row.figure,
          `${formatNumber(row.value)} ${row.unit}`,
          row.detail ?? "",
          baseline,
          ratio,
          row.target ?? "",
          result,
        ].map(escape).join(" | ")
      } |`,
    );
  }
  return lines.join("\n");
}

/**
 * Formats the CPU each side spent per operation, for every measurement that has it, as Markdown.
 *
 * @param results What the run measured.
 * @returns The table: figure, bank and ATMs, TLS server and clients (microseconds).
 */
export function formatCpuTable(results: BenchResults): string {
  const us = (value: number | undefined) => value === undefined ? "-" : formatNumber(value);
  const lines = [
    "| Measurement | bank µs/op | ATMs µs/op | TLS server µs/op | TLS clients µs/op |",
    "| --- | --- | --- | --- | --- |",
  ];
  const add = (name: string, bank: ClosedLoopResult, tls?: ClosedLoopResult) => {
    if (!bank.cpu && !tls?.cpu) return;
    lines.push(
      `| ${name} | ${us(bank.cpu?.serverUs)} | ${us(bank.cpu?.clientUs)} | ` +
        `${us(tls?.cpu?.serverUs)} | ${us(tls?.cpu?.clientUs)} |`,
    );
  };
  add(
    `Handshakes, ${results.handshakes.concurrency} at once`,
    results.handshakes.bank,
    results.handshakes.tls,
  );
  for (const level of results.roundTrips) {
    add(`Round trips, ${atms(level.atms)}`, level.bank, level.tls);
  }
  for (const level of results.transactions) add(`Transaction mix, ${atms(level.atms)}`, level.bank);
  return lines.join("\n");
}
