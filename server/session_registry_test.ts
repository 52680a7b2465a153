import assert from "node:assert/strict";
import { SessionRegistry } from "./session_registry.ts";

Deno.test("SessionRegistry.list() shows open sessions with the clock's times as ISO dates", () => {
  let now = Date.UTC(2026, 11, 4, 10, 0, 0);
  const registry = new SessionRegistry(() => now);
  registry.open("s1", "atm-1");
  now += 1500;
  registry.open("s2", "atm-2");
  registry.login("s1", "alice");
  now += 60_000;
  registry.touch("s1");
  assert.deepEqual(registry.list(), [
    {
      sessionId: "s1",
      atmId: "atm-1",
      customer: "alice",
      since: "2026-12-04T10:00:00.000Z",
      lastActivity: "2026-12-04T10:01:01.500Z",
    },
    {
      sessionId: "s2",
      atmId: "atm-2",
      customer: null,
      since: "2026-12-04T10:00:01.500Z",
      lastActivity: "2026-12-04T10:00:01.500Z",
    },
  ]);
});

Deno.test("SessionRegistry forgets closed sessions and ignores unknown ids", () => {
  const registry = new SessionRegistry(() => 0);
  registry.open("s1", "atm-1");
  registry.touch("nope");
  registry.login("nope", "bob");
  assert.equal(registry.size, 1);
  registry.login("s1", null);
  registry.close("s1");
  assert.equal(registry.size, 0);
  assert.deepEqual(registry.list(), []);
});

Deno.test("SessionRegistry.list() returns copies", () => {
  const registry = new SessionRegistry(() => 0);
  registry.open("s1", "atm-1");
  registry.list()[0].customer = "mallory";
  assert.equal(registry.list()[0].customer, null);
});
