import { assert, assertEquals, assertRejects } from "./_test_assert.ts";
import { toBase64Url, toHex } from "./bytes.ts";
import {
  CREDENTIAL_FORMAT,
  CredentialError,
  readCredential,
  writeCredential,
} from "./credential.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "credential_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const PSK = crypto.getRandomValues(new Uint8Array(32));
const GOOD = {
  atmId: "atm-7",
  psk: PSK,
  servers: ["127.0.0.1:4000", "[::1]:4001", "bank.example:4002"],
};

async function writeRaw(path: string, value: unknown): Promise<void> {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  await Deno.writeTextFile(path, text, { mode: 0o600 });
}

Deno.test("writeCredential() writes a 0600 file that readCredential() reads back", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/atm.json`;
    await writeCredential(path, GOOD);
    assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    const read = await readCredential(path);
    assertEquals([read.atmId, toHex(read.psk), read.servers], [
      GOOD.atmId,
      toHex(PSK),
      GOOD.servers,
    ]);
    const json = JSON.parse(await Deno.readTextFile(path));
    assertEquals(json.format, CREDENTIAL_FORMAT);
    assertEquals(json.psk, toBase64Url(PSK));
  });
});

Deno.test("writeCredential() refuses to overwrite an existing file", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/atm.json`;
    await writeCredential(path, GOOD);
    await assertRejects(
      writeCredential(path, { ...GOOD, atmId: "other" }),
      CredentialError,
      "exists",
    );
    assertEquals((await readCredential(path)).atmId, "atm-7");
  });
});

Deno.test("writeCredential() refuses bad fields and writes nothing", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/atm.json`;
    const bad = [
      { ...GOOD, atmId: "has space" },
      { ...GOOD, psk: new Uint8Array(16) },
      { ...GOOD, servers: [] },
      { ...GOOD, servers: ["no-port"] },
      { ...GOOD, servers: ["host:70000"] },
    ];
    for (const credential of bad) {
      await assertRejects(writeCredential(path, credential), CredentialError, "malformed");
    }
    await assertRejects(Deno.stat(path), Deno.errors.NotFound);
  });
});

Deno.test("readCredential() refuses a 0644 file", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/atm.json`;
    await writeCredential(path, GOOD);
    await Deno.chmod(path, 0o644);
    const error = await assertRejects(
      readCredential(path),
      CredentialError,
      "insecure_permissions",
    );
    assert(error.message.includes("0644"), error.message);
  });
});

Deno.test("readCredential() reports a missing file", async () => {
  await withTempDir(async (dir) => {
    await assertRejects(readCredential(`${dir}/none.json`), CredentialError, "missing");
  });
});

Deno.test("readCredential() refuses malformed files without echoing the key", async () => {
  await withTempDir(async (dir) => {
    const psk = toBase64Url(PSK);
    const base = { format: CREDENTIAL_FORMAT, atmId: "atm-7", psk, servers: ["127.0.0.1:4000"] };
    const cases: unknown[] = [
      `{"psk": "${psk}", oops`,
      "[]",
      { ...base, format: "atm-credential/2" },
      { ...base, extra: 1 },
      { ...base, psk: psk.slice(0, 20) },
      { ...base, psk: psk + "==" },
      { ...base, atmId: "" },
      { ...base, servers: "127.0.0.1:4000" },
      { format: base.format, atmId: base.atmId, psk: base.psk },
    ];
    for (const [index, value] of cases.entries()) {
      const path = `${dir}/bad${index}.json`;
      await writeRaw(path, value);
      const error = await assertRejects(readCredential(path), CredentialError, "malformed");
      assert(!error.message.includes(psk.slice(0, 12)), `case ${index} leaks the key`);
      assert(error.cause === undefined || !String(error.cause).includes(psk.slice(0, 12)));
    }
  });
});
