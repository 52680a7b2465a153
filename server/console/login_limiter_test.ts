import assert from "node:assert/strict";
import { LoginLimiter } from "./login_limiter.ts";

Deno.test("LoginLimiter.check() refuses a client after too many failures in the window", () => {
  let now = 1_000_000;
  const limiter = new LoginLimiter({ now: () => now, failuresMax: 3, windowMs: 10_000 });
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(limiter.check("127.0.0.1"), { allowed: true });
    limiter.fail("127.0.0.1");
    now += 1_000;
  }
  assert.deepEqual(limiter.check("127.0.0.1"), {
    allowed: false,
    retryAfterMs: 7_000,
    firstRefusal: true,
  });
  now += 500;
  assert.deepEqual(limiter.check("127.0.0.1"), {
    allowed: false,
    retryAfterMs: 6_500,
    firstRefusal: false,
  });
  now -= 500;
  assert.deepEqual(limiter.check("10.0.0.2"), { allowed: true }, "other clients are not affected");
  now += 7_000;
  assert.deepEqual(limiter.check("127.0.0.1"), { allowed: true }, "the oldest failure expired");
  limiter.fail("127.0.0.1");
  const again = limiter.check("127.0.0.1");
  assert.equal(again.allowed, false);
  assert.equal(!again.allowed && again.firstRefusal, true, "a new run of refusals is reported");
});

Deno.test("LoginLimiter forgets the oldest client past its table size", () => {
  const limiter = new LoginLimiter({ now: () => 5, failuresMax: 1, clientsMax: 2 });
  limiter.fail("a");
  limiter.fail("b");
  limiter.fail("c");
  assert.equal(limiter.check("a").allowed, true);
  assert.equal(limiter.check("b").allowed, false);
  assert.equal(limiter.check("c").allowed, false);
});
