import { assert, assertEquals, assertThrows } from "./_test_assert.ts";
import { fromHex, toHex } from "./bytes.ts";
import { AesCbcBatchDecrypter, AesCbcDecrypter, AesCbcEncrypter, AesCbcError } from "./aes_cbc.ts";

// NIST SP 800-38A, F.2.5 and F.2.6 (CBC-AES256): four blocks, no padding in the vector.
const NIST_KEY = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
const NIST_IV = "000102030405060708090a0b0c0d0e0f";
const NIST_PLAIN = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51" +
  "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
const NIST_CIPHER = "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d" +
  "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b";

async function webCryptoKey(key: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return await crypto.subtle.importKey("raw", key, "AES-CBC", false, ["encrypt", "decrypt"]);
}

Deno.test("AesCbcEncrypter matches NIST SP 800-38A CBC-AES256, then adds one block of padding", () => {
  const encrypter = new AesCbcEncrypter(fromHex(NIST_KEY));
  const ciphertext = encrypter.encrypt(fromHex(NIST_IV), fromHex(NIST_PLAIN));
  assertEquals(ciphertext.length, 80);
  assertEquals(toHex(ciphertext.subarray(0, 64)), NIST_CIPHER);
});

Deno.test("AesCbcDecrypter recovers the NIST SP 800-38A plaintext", () => {
  const encrypter = new AesCbcEncrypter(fromHex(NIST_KEY));
  const decrypter = new AesCbcDecrypter(fromHex(NIST_KEY));
  const ciphertext = encrypter.encrypt(fromHex(NIST_IV), fromHex(NIST_PLAIN));
  assertEquals(toHex(decrypter.decrypt(fromHex(NIST_IV), ciphertext)), NIST_PLAIN);
});

Deno.test("one long-lived encrypter and decrypter give WebCrypto's bytes for message after message", async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const webKey = await webCryptoKey(key);
  const encrypter = new AesCbcEncrypter(key);
  const decrypter = new AesCbcDecrypter(key);
  // Every length around the block boundaries, in an order that changes the chaining each time.
  for (let length = 0; length <= 100; length++) {
    const iv = crypto.getRandomValues(new Uint8Array(16));
    const plaintext = crypto.getRandomValues(new Uint8Array((length * 37) % 101));
    const ours = encrypter.encrypt(iv, plaintext);
    const theirs = new Uint8Array(
      await crypto.subtle.encrypt({ name: "AES-CBC", iv }, webKey, plaintext),
    );
    assertEquals(toHex(ours), toHex(theirs));
    assertEquals(toHex(decrypter.decrypt(iv, theirs)), toHex(plaintext));
  }
});

Deno.test("AesCbcDecrypter refuses a bad length before it reaches the cipher, and goes on working", () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const encrypter = new AesCbcEncrypter(key);
  const decrypter = new AesCbcDecrypter(key);
  const iv = new Uint8Array(16);
  for (const length of [0, 1, 15, 17, 31]) {
    const error = assertThrows(
      () => decrypter.decrypt(iv, new Uint8Array(length)),
      AesCbcError,
    );
    assertEquals(error.message.includes(String(length)), true);
  }
  const plaintext = new TextEncoder().encode("still in step");
  assertEquals(toHex(decrypter.decrypt(iv, encrypter.encrypt(iv, plaintext))), toHex(plaintext));
});

Deno.test("AesCbcDecrypter refuses wrong padding and stays in step for the next message", () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const encrypter = new AesCbcEncrypter(key);
  const decrypter = new AesCbcDecrypter(key);
  const iv = crypto.getRandomValues(new Uint8Array(16));
  // A whole block of plaintext without its padding block: the last byte is not valid padding.
  const unpadded = encrypter.encrypt(iv, new Uint8Array(16).fill(0x41)).subarray(0, 16);
  assert(
    assertThrows(() => decrypter.decrypt(iv, unpadded), AesCbcError).message.includes("padding"),
  );
  // Under the wrong key the padding is garbage too.
  const other = new AesCbcDecrypter(crypto.getRandomValues(new Uint8Array(32)));
  const sealed = encrypter.encrypt(iv, new Uint8Array(5));
  let refused = 0;
  for (let i = 0; i < 20; i++) {
    try {
      other.decrypt(iv, encrypter.encrypt(iv, new Uint8Array(5)));
    } catch (error) {
      if (error instanceof AesCbcError) refused++;
    }
  }
  // A random last block is valid padding about once in 256 tries; 20 tries almost never all are.
  assertEquals(refused > 0, true);
  assertEquals(toHex(decrypter.decrypt(iv, sealed)), "0000000000");
});

Deno.test("AesCbcEncrypter and AesCbcDecrypter refuse keys and IVs of the wrong size", () => {
  assert(
    assertThrows(() => new AesCbcEncrypter(new Uint8Array(16)), RangeError).message.includes(
      "32 bytes",
    ),
  );
  assert(
    assertThrows(() => new AesCbcDecrypter(new Uint8Array(31)), RangeError).message.includes(
      "32 bytes",
    ),
  );
  const encrypter = new AesCbcEncrypter(new Uint8Array(32));
  assert(
    assertThrows(() => encrypter.encrypt(new Uint8Array(12), new Uint8Array(1)), RangeError).message
      .includes("16"),
  );
  const decrypter = new AesCbcDecrypter(new Uint8Array(32));
  assert(
    assertThrows(() => decrypter.decrypt(new Uint8Array(8), new Uint8Array(16)), RangeError).message
      .includes("16"),
  );
});

Deno.test("AesCbcBatchDecrypter recovers the NIST SP 800-38A plaintext", () => {
  const decrypter = new AesCbcBatchDecrypter(fromHex(NIST_KEY));
  const padding = new AesCbcEncrypter(fromHex(NIST_KEY)).encrypt(
    fromHex(NIST_CIPHER).subarray(48), // CBC: the next block's IV is the last ciphertext block
    new Uint8Array(0),
  );
  const ct = new Uint8Array([...fromHex(NIST_CIPHER), ...padding]);
  const [plain] = decrypter.decryptAll([{ iv: fromHex(NIST_IV), ct }]);
  assertEquals(toHex(plain!), NIST_PLAIN);
});

Deno.test("AesCbcBatchDecrypter gives WebCrypto's plaintexts for a batch of every length", async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const webKey = await webCryptoKey(key);
  const messages: { iv: Uint8Array; ct: Uint8Array }[] = [];
  const plains: Uint8Array[] = [];
  for (let length = 0; length <= 70; length++) {
    const iv = crypto.getRandomValues(new Uint8Array(16));
    const plain = crypto.getRandomValues(new Uint8Array(length));
    const ct = new Uint8Array(
      await crypto.subtle.encrypt({ name: "AES-CBC", iv }, webKey, plain),
    );
    messages.push({ iv, ct });
    plains.push(plain);
  }
  const decrypter = new AesCbcBatchDecrypter(key);
  const decrypted = decrypter.decryptAll(messages);
  decrypted.forEach((plain, i) => assertEquals(toHex(plain!), toHex(plains[i]), `message ${i}`));
  // one at a time, and in a second batch on the same context: no state carried between calls
  assertEquals(toHex(decrypter.decryptAll([messages[33]])[0]!), toHex(plains[33]));
  assertEquals(decrypter.decryptAll(messages).map((p) => toHex(p!)), plains.map(toHex));
});

Deno.test("AesCbcBatchDecrypter gives null for a bad length or padding, the others intact", () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const encrypter = new AesCbcEncrypter(key);
  const iv = new Uint8Array(16);
  const good = { iv, ct: encrypter.encrypt(iv, new Uint8Array(20).fill(7)) };
  const badPadding = { iv, ct: encrypter.encrypt(iv, new Uint8Array(31)) };
  badPadding.ct[15] ^= 0x01; // the last plaintext byte becomes 0x00: no valid padding
  const [a, b, c, d, e] = new AesCbcBatchDecrypter(key).decryptAll([
    good,
    { iv, ct: new Uint8Array(0) },
    { iv, ct: new Uint8Array(17) },
    badPadding,
    good,
  ]);
  assertEquals([b, c, d], [null, null, null]);
  assertEquals(toHex(a!), toHex(new Uint8Array(20).fill(7)));
  assertEquals(toHex(e!), toHex(new Uint8Array(20).fill(7)));
  assertThrows(
    () => new AesCbcBatchDecrypter(key).decryptAll([{ iv: iv.subarray(1), ct: good.ct }]),
    RangeError,
  );
});
