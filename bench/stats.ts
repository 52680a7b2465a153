/**
 * Counting what a timed window did: operations per second and latency percentiles.
 *
 * @module
 */

/** Latency summary in milliseconds. */
export interface LatencySummary {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * The value at a percentile of already sorted samples (nearest rank).
 *
 * @param sorted Samples in ascending order.
 * @param percent 0 to 100.
 * @returns The sample at that rank, or NaN for no samples.
 * @throws {RangeError} When `percent` is outside 0..100.
 *
 * @example The median of five samples
 * ```ts
 * import { percentile } from "./stats.ts";
 * if (percentile([1, 2, 3, 4, 5], 50) !== 3) throw new Error("unexpected");
 * ```
 */
export function percentile(sorted: ArrayLike<number>, percent: number): number {
  if (!(percent >= 0 && percent <= 100)) {
    throw new RangeError(`Percentile must be from 0 to 100: got ${percent}`);
  }
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((percent / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/**
 * Summarises latencies.
 *
 * @param samplesMs Latencies in milliseconds, in any order (the array is not changed).
 * @returns p50, p99 and max, NaN when there are no samples.
 */
export function summariseLatency(samplesMs: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samplesMs).sort();
  return {
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length === 0 ? NaN : sorted[sorted.length - 1],
  };
}

/**
 * Rounds a figure for display and JSON: 3 significant digits, whole numbers kept whole.
 *
 * @param value The figure.
 * @returns The rounded figure; NaN stays NaN.
 */
export function roundFigure(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  if (Math.abs(value) >= 100) return Math.round(value);
  const digits = 2 - Math.floor(Math.log10(Math.abs(value)));
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
