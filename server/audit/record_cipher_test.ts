import assert from "node:assert/strict";
import { cbcDecrypt, cbcEncrypt, importCipherKey } from "./audit_crypto.ts";
import { makeAuditDir } from "./_test_support.ts";
import { loadCipherKey } from "./audit_keys.ts";
import { RecordDecrypter, RecordEncrypter } from "./record_cipher.ts";
import { AesCbcDecrypter, AesCbcError } from "../../lib/aes_cbc.ts";

const ENCODER = new TextEncoder();

Deno.test("RecordEncrypter and RecordDecrypter give WebCrypto's AES-CBC bytes both ways", async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const reference = await importCipherKey(key);
  const encrypter = new RecordEncrypter(key);
  const decrypter = new RecordDecrypter(key);
  for (let length = 0; length <= 70; length++) {
    const iv = crypto.getRandomValues(new Uint8Array(16));
    const plain = crypto.getRandomValues(new Uint8Array(length));
    const ct = encrypter.encrypt(iv, plain);
    assert.deepEqual(ct, await cbcEncrypt(reference, iv, plain), `length ${length}`);
    assert.deepEqual(decrypter.decrypt(iv, ct), plain, `length ${length}`);
  }
});

Deno.test("RecordDecrypter.decrypt() returns null for a bad length or bad padding", async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const decrypter = new RecordDecrypter(key);
  const iv = new Uint8Array(16);
  assert.equal(decrypter.decrypt(iv, new Uint8Array(0)), null);
  assert.equal(decrypter.decrypt(iv, new Uint8Array(15)), null);
  // a last block whose plaintext ends in 0x00 has no valid padding
  const reference = await importCipherKey(key);
  const padded = await cbcEncrypt(reference, iv, new Uint8Array(31)); // 31 zeros, 1 byte 0x01
  const edited = padded.slice();
  edited[15] ^= 0x01; // flips the last plaintext byte from 0x01 to 0x00
  assert.equal(decrypter.decrypt(iv, edited), null);
  assert.deepEqual(decrypter.decrypt(iv, padded), new Uint8Array(31));
});

Deno.test("RecordDecrypter.load() uses the same key as loadCipherKey()", async () => {
  const t = await makeAuditDir();
  try {
    const iv = crypto.getRandomValues(new Uint8Array(16));
    const plain = ENCODER.encode('{"seq":1}');
    const ct = (await RecordEncrypter.load(t.dir)).encrypt(iv, plain);
    assert.deepEqual(await cbcDecrypt(await loadCipherKey(t.dir), iv, ct), plain);
    assert.deepEqual((await RecordDecrypter.load(t.dir)).decrypt(iv, ct), plain);
  } finally {
    await t.cleanup();
  }
});

Deno.test("RecordDecrypter.decryptMany() gives what lib's CBC context gives record by record", async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const encrypter = new RecordEncrypter(key);
  const records = Array.from({ length: 40 }, (_, i) => {
    const iv = crypto.getRandomValues(new Uint8Array(16));
    return { iv, ct: encrypter.encrypt(iv, crypto.getRandomValues(new Uint8Array(i * 7))) };
  });
  // a wrong IV for a record only changes its first block; a flipped byte before the last block
  // turns a one-byte padding into a bad one (as in the test above)
  const badPadding = async (iv: Uint8Array<ArrayBuffer>) => {
    const ct = await cbcEncrypt(await importCipherKey(key), iv, new Uint8Array(31));
    ct[15] ^= 0x01;
    return { iv, ct };
  };
  const cases = [
    records,
    records.slice(0, 1),
    [],
    [...records.slice(0, 5), await badPadding(new Uint8Array(16)), ...records.slice(5, 9)],
    [...records.slice(0, 5), await badPadding(new Uint8Array(16))],
    [...records.slice(0, 3), { iv: new Uint8Array(16), ct: new Uint8Array(15) }],
  ];
  const decrypter = new RecordDecrypter(key);
  // the chained CBC context (lib/aes_cbc.ts, checked against NIST and WebCrypto) as the reference
  const reference = new AesCbcDecrypter(key);
  const referenceDecrypt = (r: { iv: Uint8Array; ct: Uint8Array }) => {
    try {
      return reference.decrypt(r.iv, r.ct);
    } catch (error) {
      if (error instanceof AesCbcError) return null;
      throw error;
    }
  };
  for (const [i, batch] of cases.entries()) {
    assert.deepEqual(decrypter.decryptMany(batch), batch.map(referenceDecrypt), `case ${i}`);
  }
  assert.equal(cases[3].filter((r) => referenceDecrypt(r) === null).length, 1);
});

Deno.test("RecordDecrypter.decryptMany() judges a one-block last record by its own IV", () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const encrypter = new RecordEncrypter(key);
  const firstIv = crypto.getRandomValues(new Uint8Array(16));
  const first = { iv: firstIv, ct: encrypter.encrypt(firstIv, new Uint8Array(40).fill(0x61)) };
  // 14 bytes pad with two 0x02. The IV is chosen so that the block decrypted as if chained to the
  // first record (what the joined decryption sees before its fix-up) ends in 0x01, which is valid
  // padding of another length.
  const plaintext = new Uint8Array(14).fill(0x62);
  const chained = first.ct.subarray(first.ct.length - 16);
  const iv = crypto.getRandomValues(new Uint8Array(16));
  iv[15] = 0x02 ^ chained[15] ^ 0x01;
  const last = { iv, ct: encrypter.encrypt(iv, plaintext) };
  const decrypter = new RecordDecrypter(key);
  const [, lastPlain] = decrypter.decryptMany([first, last]);
  assert.deepEqual(lastPlain, plaintext);
});
