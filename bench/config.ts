/**
 * Every size and duration of `deno task bench`, for the full run and for `--quick`. The quick run
 * measures the same figures and ratios with smaller counts and shorter windows, so it finishes in
 * under a minute; the full run uses the counts the issue names and finishes in under ten.
 *
 * @module
 */

/** The sizes of one benchmark run. */
export interface BenchConfig {
  /** "quick" or "full", as printed and stored. */
  mode: "quick" | "full";
  /** Connections opened at once while measuring handshakes. */
  handshakeConcurrency: number;
  /** How long handshakes are measured, per system. */
  handshakeMs: number;
  /** Concurrent ATMs for the round-trip figure (4 besides the issue's: where Nagle would show). */
  roundTripLevels: readonly number[];
  /** How long each round-trip level is measured. */
  roundTripMs: number;
  /** Concurrent ATMs for the durable-transaction figure (4 besides the issue's, as above). */
  transactionLevels: readonly number[];
  /** How long each transaction level is measured. */
  transactionMs: number;
  /** Ignored start of every timed window: connections warm up, the JIT settles. */
  warmupMs: number;
  /** Idle authenticated sessions held open while the bank's memory is read. */
  idleSessions: number;
  /** Wait before each memory reading, so the bank's heap settles. */
  idleSettleMs: number;
  /** Records written to the audit log that `bank audit` then verifies and decrypts. */
  auditRecords: number;
  /** How long one-row SQLite commits are counted for the fsync ceiling. */
  fsyncMs: number;
  /** pgbench: seconds per client count and the TPC-B scale factor. */
  pgbenchSeconds: number;
  pgbenchScale: number;
}

/** The full run: the counts named in the issue. */
export const FULL_CONFIG: BenchConfig = {
  mode: "full",
  handshakeConcurrency: 16,
  handshakeMs: 6_000,
  roundTripLevels: [1, 4, 10, 100],
  roundTripMs: 5_000,
  transactionLevels: [1, 4, 10, 100, 1_000],
  transactionMs: 8_000,
  warmupMs: 1_000,
  idleSessions: 10_000,
  idleSettleMs: 3_000,
  auditRecords: 1_000_000,
  fsyncMs: 5_000,
  pgbenchSeconds: 8,
  pgbenchScale: 10,
};

/** The quick run: same figures and ratios, smaller counts, shorter windows. */
export const QUICK_CONFIG: BenchConfig = {
  mode: "quick",
  handshakeConcurrency: 16,
  handshakeMs: 1_500,
  roundTripLevels: [1, 4, 10, 100],
  roundTripMs: 1_000,
  transactionLevels: [1, 4, 10, 100],
  transactionMs: 1_500,
  warmupMs: 250,
  idleSessions: 1_000,
  idleSettleMs: 1_000,
  auditRecords: 30_000,
  fsyncMs: 1_000,
  pgbenchSeconds: 2,
  pgbenchScale: 1,
};

/** Concurrency at which the targets are judged. */
export const TARGET_LEVEL = 100;

/** Opening balance of every benchmark customer: far above what the mix can withdraw. */
export const OPENING_CENTS = 10_000_000;

/** PIN of every benchmark customer (the bank still checks it with full PBKDF2 at each login). */
export const BENCH_PIN = "4242";
