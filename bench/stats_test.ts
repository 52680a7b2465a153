import { assert, assertEquals, assertThrows } from "../lib/_test_assert.ts";
import { runClosedLoop } from "./closed_loop.ts";
import { percentile, roundFigure, summariseLatency } from "./stats.ts";

Deno.test("percentile() takes the nearest rank of sorted samples", () => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
  assertEquals(percentile(sorted, 50), 50);
  assertEquals(percentile(sorted, 99), 99);
  assertEquals(percentile(sorted, 100), 100);
  assertEquals(percentile(sorted, 0), 1);
  assert(Number.isNaN(percentile([], 50)));
  assertThrows(() => percentile(sorted, 101), RangeError);
});

Deno.test("summariseLatency() reports p50, p99 and max whatever the order of samples", () => {
  const samples = [5, 1, 4, 2, 3];
  assertEquals(summariseLatency(samples), { p50Ms: 3, p99Ms: 5, maxMs: 5 });
  assertEquals(samples, [5, 1, 4, 2, 3]);
});

Deno.test("roundFigure() keeps three significant digits and whole numbers whole", () => {
  assertEquals(roundFigure(12345.6), 12346);
  assertEquals(roundFigure(1.23456), 1.23);
  assertEquals(roundFigure(0.0123456), 0.0123);
  assertEquals(roundFigure(0), 0);
});

Deno.test("runClosedLoop() stops a worker at its first failure and reports it", async () => {
  let calls = 0;
  const result = await runClosedLoop({
    workers: 1,
    warmupMs: 0,
    measureMs: 50,
    operation: () => {
      calls++;
      return Promise.reject(new TypeError("broken"));
    },
  });
  assertEquals(calls, 1);
  assertEquals(result.failures, 1);
  assertEquals(result.operations, 0);
  assertEquals(result.firstFailure, "TypeError: broken");
});

Deno.test("runClosedLoop() counts every operation that finished in the window", async () => {
  const result = await runClosedLoop({
    workers: 3,
    warmupMs: 0,
    measureMs: 100,
    operation: () => new Promise((resolve) => setTimeout(resolve, 1)),
  });
  assertEquals(result.failures, 0);
  assert(result.operations > 0, "no operation counted");
  assertEquals(result.perSecond, result.operations / result.seconds);
});

Deno.test("runClosedLoop() refuses a worker count below one", async () => {
  let threw = false;
  try {
    await runClosedLoop({
      workers: 0,
      warmupMs: 0,
      measureMs: 1,
      operation: () => Promise.resolve(),
    });
  } catch (error) {
    threw = error instanceof RangeError;
  }
  assert(threw, "expected a RangeError");
});
