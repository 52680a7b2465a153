/**
 * The shape of one benchmark run's results, as measured (before any ratio is taken), shared by
 * the runner, the report and the chart.
 *
 * @module
 */

import type { FsyncCeilingResult } from "./baselines/sqlite_fsync.ts";
import type { PgbenchResult } from "./baselines/pgbench.ts";
import type { ClosedLoopResult } from "./closed_loop.ts";
import type { MachineInfo } from "./machine.ts";
import type { AuditResult } from "./workloads/audit_log.ts";
import type { IdleSessionsResult } from "./workloads/idle_sessions.ts";

/** A figure that could not be measured, and why. */
export interface Skipped {
  skipped: string;
}

/** Everything one run measured. */
export interface BenchResults {
  mode: "quick" | "full";
  startedAt: string;
  finishedAt: string;
  seconds: number;
  machine: MachineInfo;
  loadAverageEnd: number[];
  messageSizes: { requestBytes: number; responseBytes: number };
  handshakes: {
    concurrency: number;
    bank: ClosedLoopResult;
    tls: ClosedLoopResult;
    tlsSessions?: { sessions: number; resumed: number; notTls13: number };
  };
  roundTrips: { atms: number; bank: ClosedLoopResult; tls: ClosedLoopResult }[];
  transactions: { atms: number; bank: ClosedLoopResult }[];
  fsyncCeiling: FsyncCeilingResult;
  pgbench: PgbenchResult;
  idleSessions: IdleSessionsResult | Skipped;
  audit: AuditResult;
  /** `bank audit --verify` on the benchmark bank's own log after the load. */
  bankAuditCheck: string;
  notes: string[];
  /** Each step of the run and the second it began at. */
  steps?: { step: string; startedSecond: number }[];
}
