import assert from "node:assert/strict";
import {
  METRICS_SAMPLES_PER_SECOND_MAX,
  METRICS_SECONDS_MAX,
  TransactionMetrics,
} from "./metrics.ts";

function clock(startMs: number) {
  let now = startMs;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

Deno.test("TransactionMetrics.lastSeconds() counts operations per second with median and max", () => {
  const time = clock(1_000_000_000);
  const metrics = new TransactionMetrics(time.now);
  metrics.record(1);
  metrics.record(9);
  metrics.record(5);
  time.advance(1_000);
  metrics.record(2);
  metrics.record(4);
  assert.deepEqual(metrics.lastSeconds(3), [
    { second: 999_999, count: 0, p50Ms: 0, maxMs: 0 },
    { second: 1_000_000, count: 3, p50Ms: 5, maxMs: 9 },
    { second: 1_000_001, count: 2, p50Ms: 3, maxMs: 4 },
  ]);
});

Deno.test("TransactionMetrics.lastSeconds() forgets seconds older than the ring", () => {
  const time = clock(50_000_000);
  const metrics = new TransactionMetrics(time.now);
  metrics.record(3);
  time.advance(METRICS_SECONDS_MAX * 1_000);
  metrics.record(7);
  const window = metrics.lastSeconds(METRICS_SECONDS_MAX);
  assert.equal(window.length, METRICS_SECONDS_MAX);
  assert.equal(window.reduce((sum, s) => sum + s.count, 0), 1);
  assert.deepEqual(window.at(-1), {
    second: 50_000 + METRICS_SECONDS_MAX,
    count: 1,
    p50Ms: 7,
    maxMs: 7,
  });
});

Deno.test("TransactionMetrics.record() keeps counting past the sample cap", () => {
  const metrics = new TransactionMetrics(() => 7_000_000);
  const total = METRICS_SAMPLES_PER_SECOND_MAX + 10;
  for (let i = 0; i < total; i++) metrics.record(i < METRICS_SAMPLES_PER_SECOND_MAX ? 1 : 500);
  const [now] = metrics.lastSeconds(1);
  assert.equal(now.count, total);
  assert.equal(now.maxMs, 500);
  assert.equal(now.p50Ms, 1);
});

Deno.test("TransactionMetrics rejects bad latencies and window sizes", () => {
  const metrics = new TransactionMetrics(() => 1_000);
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => metrics.record(bad), { name: "RangeError", message: /Latency must be/ });
  }
  for (const bad of [0, 1.5, METRICS_SECONDS_MAX + 1]) {
    assert.throws(() => metrics.lastSeconds(bad), { name: "RangeError", message: /Seconds must/ });
  }
  assert.equal(metrics.lastSeconds(1)[0].count, 0);
});
