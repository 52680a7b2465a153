/**
 * Transaction metrics for the operator console: how many money operations finished in each
 * second, and how long they took. Kept in memory as a ring of one-second buckets, so memory stays
 * fixed however long the bank runs and however busy it is.
 *
 * A bucket keeps every latency of its second up to {@link METRICS_SAMPLES_PER_SECOND_MAX}; past
 * that it keeps counting and tracking the maximum, and the median is taken over the samples kept.
 *
 * @module
 */

/**
 * Seconds of history kept: ten minutes, more than the console chart shows, so a chart of the last
 * few minutes is always complete.
 */
export const METRICS_SECONDS_MAX = 600;

/**
 * Latencies kept per second for the median. Bounds memory under load; the median of the first
 * 2,048 operations of a second is a fair estimate for the rest of it.
 */
export const METRICS_SAMPLES_PER_SECOND_MAX = 2_048;

/** One second of transactions. */
export interface SecondStats {
  /** The second, in whole seconds since the epoch. */
  second: number;
  /** Operations that finished in this second. */
  count: number;
  /** Median latency in ms; 0 when count is 0. */
  p50Ms: number;
  /** Largest latency in ms; 0 when count is 0. */
  maxMs: number;
}

interface Bucket {
  second: number;
  count: number;
  maxMs: number;
  samples: number[];
}

function median(samples: number[]): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Counts money operations per second with their latency, over the last
 * {@link METRICS_SECONDS_MAX} seconds.
 *
 * @example Record two operations and read the current second
 * ```ts
 * import { TransactionMetrics } from "./metrics.ts";
 * const metrics = new TransactionMetrics(() => 5_000);
 * metrics.record(2);
 * metrics.record(4);
 * const [now] = metrics.lastSeconds(1);
 * if (now.count !== 2 || now.p50Ms !== 3 || now.maxMs !== 4) throw new Error("unexpected");
 * ```
 */
export class TransactionMetrics {
  readonly #now: () => number;
  readonly #buckets: (Bucket | undefined)[] = new Array(METRICS_SECONDS_MAX);

  /** @param now Clock in ms since the epoch; tests may pass their own. */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #currentSecond(): number {
    return Math.floor(this.#now() / 1000);
  }

  /**
   * Counts one finished operation in the current second.
   *
   * @param latencyMs How long it took, in ms.
   * @throws {RangeError} When the latency is negative or not a finite number.
   */
  record(latencyMs: number): void {
    if (!Number.isFinite(latencyMs) || latencyMs < 0) {
      throw new RangeError(`Latency must be a finite number of ms >= 0: got ${latencyMs}`);
    }
    const second = this.#currentSecond();
    const slot = second % METRICS_SECONDS_MAX;
    let bucket = this.#buckets[slot];
    if (bucket === undefined || bucket.second !== second) {
      bucket = { second, count: 0, maxMs: 0, samples: [] };
      this.#buckets[slot] = bucket;
    }
    bucket.count += 1;
    bucket.maxMs = Math.max(bucket.maxMs, latencyMs);
    if (bucket.samples.length < METRICS_SAMPLES_PER_SECOND_MAX) bucket.samples.push(latencyMs);
  }

  /**
   * The last `n` seconds, oldest first, ending with the current second. Seconds without
   * operations are included with a count of 0.
   *
   * @param n How many seconds, 1 to {@link METRICS_SECONDS_MAX}.
   * @returns One entry per second.
   * @throws {RangeError} When `n` is out of range.
   */
  lastSeconds(n: number): SecondStats[] {
    if (!Number.isSafeInteger(n) || n < 1 || n > METRICS_SECONDS_MAX) {
      throw new RangeError(
        `Seconds must be a whole number from 1 to ${METRICS_SECONDS_MAX}: got ${n}`,
      );
    }
    const current = this.#currentSecond();
    const result: SecondStats[] = [];
    for (let second = current - n + 1; second <= current; second++) {
      const bucket = this.#buckets[second % METRICS_SECONDS_MAX];
      if (bucket === undefined || bucket.second !== second) {
        result.push({ second, count: 0, p50Ms: 0, maxMs: 0 });
      } else {
        const p50Ms = median(bucket.samples);
        result.push({ second, count: bucket.count, p50Ms, maxMs: bucket.maxMs });
      }
    }
    return result;
  }
}
