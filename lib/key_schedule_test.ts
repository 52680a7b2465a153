import { assert, assertEquals, assertRejects } from "./_test_assert.ts";
import { type Bytes, concatBytes, fromHex, toHex, utf8 } from "./bytes.ts";
import { hkdfSha256 } from "./hkdf.ts";
import { hmacSha256 } from "./hmac.ts";
import {
  deriveSessionKeys,
  type KeyScheduleInput,
  LABEL_PREFIX,
  LABELS,
  type SessionKeys,
} from "./key_schedule.ts";

interface Vector {
  input: Record<keyof KeyScheduleInput, string>;
  master: string;
  keys: Record<Exclude<keyof typeof LABELS, "master">, string>;
}

const vector = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/key_schedule_v1.json", import.meta.url)),
) as Vector;

function vectorInput(): KeyScheduleInput {
  const input = vector.input;
  return {
    psk: fromHex(input.psk),
    sharedSecret: fromHex(input.sharedSecret),
    atmNonce: fromHex(input.atmNonce),
    bankNonce: fromHex(input.bankNonce),
    transcriptHash: fromHex(input.transcriptHash),
  };
}

/** The six keys of a session, in the vector's names. */
function keysByName(keys: SessionKeys): Record<keyof Vector["keys"], CryptoKey> {
  return {
    bankFinished: keys.bankFinished,
    atmFinished: keys.atmFinished,
    atmToBankEncryption: keys.atmToBank.encryption,
    atmToBankMac: keys.atmToBank.mac,
    bankToAtmEncryption: keys.bankToAtm.encryption,
    bankToAtmMac: keys.bankToAtm.mac,
  };
}

const PROBE = utf8("probe message of the key schedule test");
const PROBE_IV = new Uint8Array(16).fill(0x5a);

/**
 * What a key does to a fixed message: an HMAC tag or an AES-CBC ciphertext. Two keys of the same
 * kind give the same answer exactly when they are the same key (the derived ones are not
 * extractable, so this is how the test compares them).
 */
async function fingerprint(key: CryptoKey): Promise<string> {
  if (key.algorithm.name === "HMAC") return toHex(await hmacSha256(key, PROBE));
  const cipher = await crypto.subtle.encrypt({ name: "AES-CBC", iv: PROBE_IV }, key, PROBE);
  return toHex(new Uint8Array(cipher));
}

async function importRaw(hex: string, kind: "HMAC" | "AES-CBC"): Promise<CryptoKey> {
  const algorithm = kind === "HMAC"
    ? { name: "HMAC", hash: "SHA-256" }
    : { name: "AES-CBC", length: 256 };
  const usages: KeyUsage[] = kind === "HMAC" ? ["sign"] : ["encrypt"];
  return await crypto.subtle.importKey("raw", fromHex(hex), algorithm, false, usages);
}

Deno.test("the key schedule vector follows the documented HKDF calls", async () => {
  const input = vectorInput();
  const master = await hkdfSha256(
    concatBytes(input.psk, input.sharedSecret),
    concatBytes(input.atmNonce, input.bankNonce),
    concatBytes(utf8("atm-bank/1 master secret"), input.transcriptHash),
    32,
  );
  assertEquals(toHex(master), vector.master);
  const labels: Record<keyof Vector["keys"], string> = {
    bankFinished: "atm-bank/1 bank finished",
    atmFinished: "atm-bank/1 atm finished",
    atmToBankEncryption: "atm-bank/1 atm->bank enc",
    atmToBankMac: "atm-bank/1 atm->bank mac",
    bankToAtmEncryption: "atm-bank/1 bank->atm enc",
    bankToAtmMac: "atm-bank/1 bank->atm mac",
  };
  for (const [name, label] of Object.entries(labels) as [keyof Vector["keys"], string][]) {
    const key = await hkdfSha256(master, new Uint8Array(0), label, 32);
    assertEquals(toHex(key), vector.keys[name], name);
    assertEquals(LABEL_PREFIX + LABELS[name], label, `label of ${name} in key_schedule.ts`);
  }
});

Deno.test("deriveSessionKeys() yields exactly the six keys of the vector", async () => {
  const derived = keysByName(await deriveSessionKeys(vectorInput()));
  for (const [name, key] of Object.entries(derived) as [keyof Vector["keys"], CryptoKey][]) {
    const kind = name.endsWith("Encryption") ? "AES-CBC" : "HMAC";
    assertEquals(key.algorithm.name, kind, name);
    assertEquals(key.extractable, false, `${name} is not extractable`);
    const expected = await fingerprint(await importRaw(vector.keys[name], kind));
    assertEquals(await fingerprint(key), expected, name);
  }
});

Deno.test("deriveSessionKeys() gives six distinct keys for random inputs", async () => {
  const random = () => crypto.getRandomValues(new Uint8Array(32));
  const keys = keysByName(
    await deriveSessionKeys({
      psk: random(),
      sharedSecret: random(),
      atmNonce: random(),
      bankNonce: random(),
      transcriptHash: random(),
    }),
  );
  // Same-kind keys compared by what they do; the AES and HMAC fingerprints differ in length.
  const fingerprints = await Promise.all(Object.values(keys).map(fingerprint));
  assertEquals(new Set(fingerprints).size, 6);
  assertEquals(new Set(Object.values(vector.keys)).size, 6, "the vector's keys differ too");
});

Deno.test("deriveSessionKeys() changes every key when any one input changes", async () => {
  const base = keysByName(await deriveSessionKeys(vectorInput()));
  const baseFingerprints = await Promise.all(Object.values(base).map(fingerprint));
  for (const field of Object.keys(vector.input) as (keyof KeyScheduleInput)[]) {
    const input = vectorInput();
    const changed: Bytes = input[field].slice();
    changed[changed.length - 1] ^= 0x01;
    const keys = keysByName(await deriveSessionKeys({ ...input, [field]: changed }));
    const fingerprints = await Promise.all(Object.values(keys).map(fingerprint));
    for (const [index, value] of fingerprints.entries()) {
      assert(value !== baseFingerprints[index], `${field} change leaves key ${index} unchanged`);
    }
  }
});

Deno.test("deriveSessionKeys() refuses inputs of the wrong length", async () => {
  for (const field of Object.keys(vector.input) as (keyof KeyScheduleInput)[]) {
    for (const length of [31, 33]) {
      const input = { ...vectorInput(), [field]: new Uint8Array(length) };
      const error = await assertRejects(deriveSessionKeys(input), RangeError);
      assert(error.message.includes(`got ${length}`), error.message);
    }
  }
});
