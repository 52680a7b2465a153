/**
 * The load shape every throughput figure uses: N workers, each doing one operation after another
 * for a fixed time (a closed loop, like an ATM that waits for each answer). Operations finished in
 * the warm-up are not counted; the figure is what finished inside the measured window, and the
 * latencies are those of the same operations.
 *
 * @module
 */

import type { CpuPerOperation } from "./cpu.ts";
import { type LatencySummary, summariseLatency } from "./stats.ts";

/** One closed-loop run. */
export interface ClosedLoopOptions {
  /** Workers running at once. */
  workers: number;
  /** Ignored first part of the run. */
  warmupMs: number;
  /** The measured part of the run. */
  measureMs: number;
  /** One operation of worker `index`; it resolves when the answer is in. */
  operation: (index: number) => Promise<void>;
}

/** What a closed-loop run measured. */
export interface ClosedLoopResult extends LatencySummary {
  /** Operations finished inside the measured window. */
  operations: number;
  /** Length of the measured window in seconds. */
  seconds: number;
  /** Operations per second in the measured window. */
  perSecond: number;
  /** Operations finished over the whole run, warm-up included. */
  completed: number;
  /** CPU per completed operation, when the caller measured it (see cpu.ts). */
  cpu?: CpuPerOperation;
  /** Operations that threw (a worker stops at its first failure). */
  failures: number;
  /** The first failure's message, for the report. */
  firstFailure?: string;
}

/**
 * Runs the workers and measures them.
 *
 * @param options Workers, timing and the operation.
 * @returns Throughput and latency of the measured window.
 * @throws {RangeError} On a worker count below 1 or a negative time.
 */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const { workers, warmupMs, measureMs, operation } = options;
  if (!Number.isSafeInteger(workers) || workers < 1) {
    throw new RangeError(`Workers must be a positive integer: got ${workers}`);
  }
  if (!(warmupMs >= 0) || !(measureMs > 0)) {
    throw new RangeError(`Times must be positive: warm-up ${warmupMs}, measure ${measureMs}`);
  }
  const start = performance.now();
  const measureFrom = start + warmupMs;
  const stopAt = measureFrom + measureMs;
  const latencies: number[] = [];
  let failures = 0;
  let completed = 0;
  let firstFailure: string | undefined;

  const worker = async (index: number) => {
    while (performance.now() < stopAt) {
      const began = performance.now();
      try {
        await operation(index);
      } catch (error) {
        failures++;
        firstFailure ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        return;
      }
      const ended = performance.now();
      completed++;
      if (ended >= measureFrom && ended <= stopAt) latencies.push(ended - began);
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, i) => worker(i)));
  const seconds = measureMs / 1000;
  return {
    operations: latencies.length,
    completed,
    seconds,
    perSecond: latencies.length / seconds,
    failures,
    firstFailure,
    ...summariseLatency(latencies),
  };
}
