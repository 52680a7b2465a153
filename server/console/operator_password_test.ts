import assert from "node:assert/strict";
import {
  ensureOperatorPassword,
  OPERATOR_PASSWORD_CHARS_MIN,
  OPERATOR_PASSWORD_ITERATIONS,
  operatorPasswordPath,
  setOperatorPassword,
  verifyOperatorPassword,
} from "./operator_password.ts";

async function withDataDir(work: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "operator_password_test_" });
  try {
    await work(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("setOperatorPassword() stores only a hash, in an owner-only file", async () => {
  await withDataDir(async (dir) => {
    await setOperatorPassword(dir, "correct horse battery");
    const path = operatorPasswordPath(dir);
    const info = await Deno.stat(path);
    assert.equal(info.mode! & 0o777, 0o600);
    const text = await Deno.readTextFile(path);
    assert.equal(text.includes("correct horse"), false);
    const stored = JSON.parse(text);
    assert.equal(stored.kdf, "PBKDF2-SHA256");
    assert.equal(stored.iterations, OPERATOR_PASSWORD_ITERATIONS);
    assert.equal(stored.oneTime, false);
    assert.deepEqual(await verifyOperatorPassword(dir, "correct horse battery"), {
      ok: true,
      oneTime: false,
    });
  });
});

Deno.test("verifyOperatorPassword() refuses a wrong, empty or overlong password", async () => {
  await withDataDir(async (dir) => {
    await setOperatorPassword(dir, "correct horse battery");
    for (const wrong of ["correct horse batterY", "", "x".repeat(10_000), "correct horse"]) {
      assert.equal((await verifyOperatorPassword(dir, wrong)).ok, false, `accepted ${wrong}`);
    }
  });
});

Deno.test("setOperatorPassword() rejects a short password and keeps the old one", async () => {
  await withDataDir(async (dir) => {
    await setOperatorPassword(dir, "correct horse battery");
    const short = "a".repeat(OPERATOR_PASSWORD_CHARS_MIN - 1);
    await assert.rejects(() => setOperatorPassword(dir, short), {
      name: "OperatorPasswordError",
      code: "too_short",
      message: `Password must have at least ${OPERATOR_PASSWORD_CHARS_MIN} characters: got 11`,
    });
    assert.equal((await verifyOperatorPassword(dir, "correct horse battery")).ok, true);
    assert.equal((await verifyOperatorPassword(dir, short)).ok, false);
  });
});

Deno.test("ensureOperatorPassword() creates a one-time password once", async () => {
  await withDataDir(async (dir) => {
    const first = await ensureOperatorPassword(dir);
    assert.ok(first !== null && first.length >= OPERATOR_PASSWORD_CHARS_MIN);
    assert.equal(await ensureOperatorPassword(dir), null);
    assert.deepEqual(await verifyOperatorPassword(dir, first), { ok: true, oneTime: true });
    await setOperatorPassword(dir, "a new long passphrase");
    assert.deepEqual(await verifyOperatorPassword(dir, first), { ok: false, oneTime: false });
  });
});

Deno.test("verifyOperatorPassword() refuses a file readable by others, a symlink and no file", async () => {
  await withDataDir(async (dir) => {
    await assert.rejects(() => verifyOperatorPassword(dir, "whatever password"), {
      code: "missing",
    });
    await setOperatorPassword(dir, "correct horse battery");
    const path = operatorPasswordPath(dir);
    await Deno.chmod(path, 0o644);
    await assert.rejects(() => verifyOperatorPassword(dir, "correct horse battery"), {
      name: "OperatorPasswordError",
      code: "file_unsafe",
      message: /mode 644\): run chmod 600/,
    });
    await assert.rejects(() => ensureOperatorPassword(dir), { code: "file_unsafe" });
    await Deno.chmod(path, 0o600);
    await Deno.rename(path, `${path}.real`);
    await Deno.symlink(`${path}.real`, path);
    await assert.rejects(() => verifyOperatorPassword(dir, "correct horse battery"), {
      code: "file_unsafe",
      message: /not a regular file/,
    });
  });
});

Deno.test("verifyOperatorPassword() refuses a tampered file without leaking its contents", async () => {
  await withDataDir(async (dir) => {
    await setOperatorPassword(dir, "correct horse battery");
    const path = operatorPasswordPath(dir);
    const stored = JSON.parse(await Deno.readTextFile(path));
    const cases = [
      { ...stored, iterations: 1 },
      { ...stored, kdf: "MD5" },
      { ...stored, hash: stored.hash.slice(4) },
      { ...stored, salt: "!!" },
    ];
    for (const tampered of cases) {
      await Deno.writeTextFile(path, JSON.stringify(tampered));
      await assert.rejects(() => verifyOperatorPassword(dir, "correct horse battery"), (error) => {
        assert.equal((error as { code: string }).code, "file_invalid");
        assert.equal((error as Error).message.includes(stored.hash), false);
        return true;
      });
    }
    await Deno.writeTextFile(path, "not json");
    await assert.rejects(() => verifyOperatorPassword(dir, "x".repeat(12)), {
      code: "file_invalid",
    });
  });
});
