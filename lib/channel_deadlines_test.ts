import { assert, assertEquals, assertThrows } from "./_test_assert.ts";
import { type ChannelDeadline, ChannelDeadlines } from "./channel_deadlines.ts";

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Deadlines that record what passed and when, in ms since the test began. */
function recorded() {
  const started = performance.now();
  const passed: { deadline: ChannelDeadline; atMs: number }[] = [];
  const deadlines = new ChannelDeadlines((deadline) => {
    passed.push({ deadline, atMs: performance.now() - started });
  });
  return { deadlines, passed };
}

Deno.test("ChannelDeadlines calls back once a set deadline passes, not before", async () => {
  const { deadlines, passed } = recorded();
  deadlines.set("receive", 30);
  await sleep(10);
  assertEquals(passed.length, 0);
  await sleep(60);
  assertEquals(passed.map((entry) => entry.deadline), ["receive"]);
  assert(passed[0].atMs >= 30, `passed early, at ${passed[0].atMs} ms`);
  deadlines.dispose();
});

Deno.test("ChannelDeadlines forgets a cleared deadline", async () => {
  const { deadlines, passed } = recorded();
  deadlines.set("write", 20);
  deadlines.clear("write");
  await sleep(50);
  assertEquals(passed, []);
  deadlines.dispose();
});

Deno.test("ChannelDeadlines waits for a deadline set again later, on the same timer", async () => {
  const { deadlines, passed } = recorded();
  deadlines.set("receive", 40);
  await sleep(25);
  deadlines.clear("receive");
  deadlines.set("receive", 40);
  await sleep(100);
  assertEquals(passed.map((entry) => entry.deadline), ["receive"]);
  assert(passed[0].atMs >= 65, `passed at ${passed[0].atMs} ms, before the second deadline`);
  deadlines.dispose();
});

Deno.test("ChannelDeadlines keeps the write and receive deadlines apart", async () => {
  const { deadlines, passed } = recorded();
  deadlines.set("receive", 120);
  deadlines.set("write", 20);
  await sleep(60);
  assertEquals(passed.map((entry) => entry.deadline), ["write"]);
  await sleep(120);
  assertEquals(passed.map((entry) => entry.deadline), ["write", "receive"]);
  assert(passed[1].atMs >= 120, `receive passed at ${passed[1].atMs} ms`);
  deadlines.dispose();
});

Deno.test("ChannelDeadlines.dispose() stops every deadline", async () => {
  const { deadlines, passed } = recorded();
  deadlines.set("receive", 20);
  deadlines.set("write", 20);
  deadlines.dispose();
  await sleep(50);
  assertEquals(passed, []);
});

Deno.test("ChannelDeadlines.set() refuses a bad timeout and leaves the deadline as it was", async () => {
  const { deadlines, passed } = recorded();
  deadlines.set("receive", 20);
  assertThrows(() => deadlines.set("receive", 0), RangeError);
  assertThrows(() => deadlines.set("write", 1.5), RangeError);
  await sleep(50);
  assertEquals(passed.map((entry) => entry.deadline), ["receive"]);
  deadlines.dispose();
});
