import assert from "node:assert/strict";
import { createHmac, hkdfSync } from "node:crypto";
import {
  auditPaths,
  epochMacKey,
  initAuditKeys,
  loadCipherKey,
  loadEpochState,
  loadOfflineKey,
  nextEpochSecret,
} from "./audit_keys.ts";
import { AuditError } from "./audit_error.ts";
import { ForwardKeyring, ServerKeyring } from "./keyring.ts";
import { cbcDecrypt, hmacSign } from "./audit_crypto.ts";
import { makeAuditDir, writeEvents } from "./_test_support.ts";

/** HKDF-SHA256 with an empty salt, computed by node:crypto as an independent reference. */
function referenceHkdf(ikm: Uint8Array, info: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(hkdfSync("sha256", ikm, new Uint8Array(0), info, 32));
}

Deno.test("initAuditKeys() creates owner-only master, epoch and offline keys once", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await initAuditKeys({ dataDir: dir });
    assert.equal(first.created, true);
    assert.equal(first.offlineKeyPresent, true);
    const paths = auditPaths(dir);
    for (const path of [paths.masterKey, paths.epochKey, paths.offlineKey]) {
      assert.equal(Deno.statSync(path).mode! & 0o777, 0o600, path);
    }
    assert.equal(Deno.statSync(paths.keysDir).mode! & 0o777, 0o700);
    assert.equal(Deno.statSync(paths.masterKey).size, 32);
    const state = await loadEpochState(paths.epochKey);
    assert.equal(state.epoch, 0);
    assert.deepEqual(state.secret, await loadOfflineKey(paths.offlineKey), "epoch 0 = offline key");
    const offlineText = await Deno.readTextFile(paths.offlineKey);

    const second = await initAuditKeys({ dataDir: dir });
    assert.equal(second.created, false);
    assert.equal(await Deno.readTextFile(paths.offlineKey), offlineText, "written once");
    await Deno.remove(paths.offlineKey); // the operator moved it away
    assert.equal((await initAuditKeys({ dataDir: dir })).offlineKeyPresent, false);
    assert.equal(await Deno.stat(paths.offlineKey).catch(() => null), null, "never written again");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("initAuditKeys() refuses to start a new chain over a log whose key is missing", async () => {
  const t = await makeAuditDir();
  try {
    await writeEvents(t.dir, 2);
    await Deno.remove(auditPaths(t.dir).epochKey);
    await assert.rejects(
      () => initAuditKeys({ dataDir: t.dir }),
      (error) => error instanceof AuditError && error.code === "missing_key",
    );
  } finally {
    await t.cleanup();
  }
});

Deno.test("initAuditKeys() refuses a master key file that others can read", async () => {
  const t = await makeAuditDir();
  try {
    await Deno.chmod(auditPaths(t.dir).masterKey, 0o640);
    await assert.rejects(
      () => initAuditKeys({ dataDir: t.dir }),
      (error) =>
        error instanceof AuditError && error.code === "insecure_key_file" &&
        /mode 0640/.test(error.message),
    );
  } finally {
    await t.cleanup();
  }
});

Deno.test("loadCipherKey() is HKDF-SHA256(master, 'bank audit encryption v1')", async () => {
  const t = await makeAuditDir();
  try {
    await writeEvents(t.dir, 1);
    const master = Deno.readFileSync(auditPaths(t.dir).masterKey);
    const expected = referenceHkdf(master, "bank audit encryption v1");
    const line = JSON.parse(Deno.readTextFileSync(`${t.dir}/audit/audit-000001.jsonl.enc`));
    const iv = Uint8Array.fromBase64(line.iv, { alphabet: "base64url" });
    const ct = Uint8Array.fromBase64(line.ct, { alphabet: "base64url" });
    const reference = await crypto.subtle.importKey("raw", expected, "AES-CBC", false, ["decrypt"]);
    const plain = await cbcDecrypt(reference, iv, ct);
    assert.equal(JSON.parse(new TextDecoder().decode(plain!)).seq, 1);
    assert.ok(await loadCipherKey(t.dir));
  } finally {
    await t.cleanup();
  }
});

Deno.test("nextEpochSecret() and epochMacKey() use HKDF 'epoch step v1' and 'epoch mac v1'", async () => {
  const root = crypto.getRandomValues(new Uint8Array(32));
  const step1 = await nextEpochSecret(root);
  assert.deepEqual(step1, referenceHkdf(root, "bank audit epoch step v1"));
  assert.notDeepEqual(step1, root);
  const data = new TextEncoder().encode("covered bytes");
  const tag = await hmacSign(await epochMacKey(step1), data);
  const macKey = referenceHkdf(step1, "bank audit epoch mac v1");
  const reference = new Uint8Array(createHmac("sha256", macKey).update(data).digest());
  assert.deepEqual(tag, reference);
});

Deno.test("ForwardKeyring derives later epochs, never earlier ones than its own", async () => {
  const root = crypto.getRandomValues(new Uint8Array(32));
  const secrets = [root];
  for (let e = 1; e <= 4; e++) secrets.push(await nextEpochSecret(secrets[e - 1]));
  const data = new TextEncoder().encode("x");
  const tagOf = async (key: CryptoKey | null) => key && (await hmacSign(key, data)).toHex();
  const expected = await Promise.all(secrets.map(async (s) => tagOf(await epochMacKey(s))));

  const offline = new ForwardKeyring(root, 0);
  assert.equal(offline.complete, true);
  assert.equal(await tagOf(await offline.macKey(4)), expected[4]);
  assert.equal(await tagOf(await offline.macKey(1)), expected[1], "going back restarts at 0");

  const server = new ForwardKeyring(secrets[2], 2);
  assert.equal(server.complete, false);
  assert.equal(await server.macKey(1), null, "the step is one-way");
  assert.equal(await tagOf(await server.macKey(2)), expected[2]);
  assert.equal(await tagOf(await server.macKey(4)), expected[4]);
  offline.erase();
  server.erase();
});

Deno.test("ServerKeyring holds the current epoch only and limits records to it", async () => {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const keyring = new ServerKeyring({ epoch: 3, since: new Date(), secret });
  assert.equal(keyring.epochLimit, 3);
  assert.equal(await keyring.macKey(2), null);
  assert.equal(await keyring.macKey(4), null);
  assert.ok(await keyring.macKey(3));
});

Deno.test("a written record's MAC matches an independent computation of the documented input", async () => {
  const t = await makeAuditDir();
  try {
    await writeEvents(t.dir, 2);
    const root = await loadOfflineKey(t.offlineKey);
    const macKey = referenceHkdf(root, "bank audit epoch mac v1");
    const lines = Deno.readTextFileSync(`${t.dir}/audit/audit-000001.jsonl.enc`).split("\n");
    let previous = new Uint8Array(32);
    for (const text of lines.slice(0, 2)) {
      const line = JSON.parse(text);
      const b64 = (s: string) => Uint8Array.fromBase64(s, { alphabet: "base64url" });
      const ct = b64(line.ct);
      const fixed = new DataView(new ArrayBuffer(16));
      fixed.setBigUint64(0, BigInt(line.seq));
      fixed.setUint32(8, line.epoch);
      fixed.setUint32(12, ct.length);
      const mac = createHmac("sha256", macKey)
        .update("bank-audit-line-v1")
        .update(new Uint8Array(fixed.buffer, 0, 12))
        .update(b64(line.iv))
        .update(new Uint8Array(fixed.buffer, 12, 4))
        .update(ct)
        .update(previous)
        .digest();
      assert.equal(
        new Uint8Array(mac).toBase64({ alphabet: "base64url", omitPadding: true }),
        line.mac,
      );
      previous = b64(line.mac);
    }
  } finally {
    await t.cleanup();
  }
});

Deno.test("initAuditKeys() creates the keys once when several callers start together", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const results = await Promise.all([1, 2, 3, 4].map(() => initAuditKeys({ dataDir: dir })));
    assert.equal(results.filter((r) => r.created).length, 1);
    const paths = auditPaths(dir);
    const state = await loadEpochState(paths.epochKey);
    assert.deepEqual(state.secret, await loadOfflineKey(paths.offlineKey));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
