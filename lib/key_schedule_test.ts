import { assert, assertEquals, assertThrows } from "./_test_assert.ts";
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

const PROBE = utf8("probe message of the key schedule test");
const PROBE_IV = new Uint8Array(16).fill(0x5a);

/** Both sides' keys from one input. */
function bothSides(input: KeyScheduleInput): { atm: SessionKeys; bank: SessionKeys } {
  return { atm: deriveSessionKeys(input, "atm"), bank: deriveSessionKeys(input, "bank") };
}

/**
 * What each of the six keys does to a fixed message, in the vector's names: an HMAC tag or an
 * AES-CBC ciphertext. Two keys of the same kind give the same answer exactly when they are the
 * same key (the derived keys live in native states, so this is how the test compares them). Each
 * direction's keys are taken from the side that sends with them.
 */
function fingerprints(
  keys: { atm: SessionKeys; bank: SessionKeys },
): Record<keyof Vector["keys"], string> {
  return {
    bankFinished: toHex(keys.bank.bankFinished.sign(PROBE)),
    atmFinished: toHex(keys.atm.atmFinished.sign(PROBE)),
    atmToBankEncryption: toHex(keys.atm.sending.encrypter.encrypt(PROBE_IV, PROBE)),
    atmToBankMac: toHex(keys.atm.sending.mac.sign(PROBE)),
    bankToAtmEncryption: toHex(keys.bank.sending.encrypter.encrypt(PROBE_IV, PROBE)),
    bankToAtmMac: toHex(keys.bank.sending.mac.sign(PROBE)),
  };
}

/** The same fingerprint computed by WebCrypto from a key's raw bytes. */
async function expectedFingerprint(name: keyof Vector["keys"], hex: string): Promise<string> {
  if (!name.endsWith("Encryption")) return toHex(await hmacSha256(fromHex(hex), PROBE));
  const key = await crypto.subtle.importKey("raw", fromHex(hex), "AES-CBC", false, ["encrypt"]);
  const cipher = await crypto.subtle.encrypt({ name: "AES-CBC", iv: PROBE_IV }, key, PROBE);
  return toHex(new Uint8Array(cipher));
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
  const derived = fingerprints(bothSides(vectorInput()));
  for (const [name, hex] of Object.entries(vector.keys) as [keyof Vector["keys"], string][]) {
    assertEquals(derived[name], await expectedFingerprint(name, hex), name);
  }
});

Deno.test("deriveSessionKeys() gives each side the peer's sending keys to receive with", () => {
  const { atm, bank } = bothSides(vectorInput());
  for (const [sender, receiver] of [[atm, bank], [bank, atm]]) {
    const iv = crypto.getRandomValues(new Uint8Array(16));
    const sealed = sender.sending.encrypter.encrypt(iv, PROBE);
    assertEquals(toHex(receiver.receiving.decrypter.decrypt(iv, sealed)), toHex(PROBE));
    const tag = sender.sending.mac.sign(PROBE);
    assert(receiver.receiving.mac.verify(tag, PROBE), "the receiver's MAC key differs");
    assert(!sender.receiving.mac.verify(tag, PROBE), "both directions share a MAC key");
  }
});

Deno.test("deriveSessionKeys() gives six distinct keys for random inputs", () => {
  const random = () => crypto.getRandomValues(new Uint8Array(32));
  const keys = fingerprints(bothSides({
    psk: random(),
    sharedSecret: random(),
    atmNonce: random(),
    bankNonce: random(),
    transcriptHash: random(),
  }));
  // Same-kind keys compared by what they do; the AES and HMAC fingerprints differ in length.
  assertEquals(new Set(Object.values(keys)).size, 6);
  assertEquals(new Set(Object.values(vector.keys)).size, 6, "the vector's keys differ too");
});

Deno.test("deriveSessionKeys() changes every key when any one input changes", () => {
  const base = Object.values(fingerprints(bothSides(vectorInput())));
  for (const field of Object.keys(vector.input) as (keyof KeyScheduleInput)[]) {
    const input = vectorInput();
    const changed: Bytes = input[field].slice();
    changed[changed.length - 1] ^= 0x01;
    const keys = Object.values(fingerprints(bothSides({ ...input, [field]: changed })));
    for (const [index, value] of keys.entries()) {
      assert(value !== base[index], `${field} change leaves key ${index} unchanged`);
    }
  }
});

Deno.test("deriveSessionKeys() refuses inputs of the wrong length", () => {
  for (const field of Object.keys(vector.input) as (keyof KeyScheduleInput)[]) {
    for (const length of [31, 33]) {
      const input = { ...vectorInput(), [field]: new Uint8Array(length) };
      const error = assertThrows(() => deriveSessionKeys(input, "atm"), RangeError);
      assert(error.message.includes(`got ${length}`), error.message);
    }
  }
});
