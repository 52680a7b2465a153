import assert from "node:assert/strict";
import { SessionTable } from "./console_sessions.ts";

function clock() {
  let now = 1_700_000_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

Deno.test("SessionTable.create() returns a fresh 256-bit token that touch() finds", async () => {
  const table = new SessionTable();
  const a = await table.create({ oneTimePassword: false });
  const b = await table.create({ oneTimePassword: true });
  assert.equal(a.token.length, 43);
  assert.notEqual(a.token, b.token);
  assert.equal((await table.touch(a.token))?.id, a.session.id);
  assert.equal((await table.touch(b.token))?.oneTimePassword, true);
  assert.equal(await table.touch(a.token.slice(1)), undefined);
  assert.equal(await table.touch(undefined), undefined);
  assert.equal(await table.touch(""), undefined);
});

Deno.test("SessionTable.touch() ends a session after the idle time and after its lifetime", async () => {
  const time = clock();
  const table = new SessionTable({ now: time.now, idleMs: 1_000, lifetimeMs: 5_000 });
  const idle = await table.create({ oneTimePassword: false });
  const busy = await table.create({ oneTimePassword: false });
  for (let i = 0; i < 4; i++) {
    time.advance(900);
    assert.ok(await table.touch(busy.token), "an active session stays");
  }
  assert.equal(await table.touch(idle.token), undefined, "an idle session ends");
  time.advance(1_500);
  assert.equal(await table.touch(busy.token), undefined, "no session outlives its lifetime");
  assert.equal(table.size, 0);
});

Deno.test("SessionTable.delete() signs out, and the oldest session goes past the cap", async () => {
  const table = new SessionTable({ sessionsMax: 2 });
  const first = await table.create({ oneTimePassword: false });
  const second = await table.create({ oneTimePassword: false });
  const third = await table.create({ oneTimePassword: false });
  assert.equal(table.size, 2);
  assert.equal(await table.touch(first.token), undefined);
  assert.equal((await table.delete(second.token))?.id, second.session.id);
  assert.equal(await table.touch(second.token), undefined);
  assert.ok(await table.touch(third.token));
});
