import assert from "node:assert/strict";
import { epochMacKey } from "./audit_keys.ts";
import { type Bytes, hmacSign, importMacKey } from "./audit_crypto.ts";
import { ChainMac } from "./chain_mac.ts";
import { ForwardKeyring, ServerKeyring } from "./keyring.ts";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function bytes(length: number, fill: number): Bytes {
  return new Uint8Array(length).fill(fill);
}

Deno.test("ChainMac.sign() matches RFC 4231 test cases 1, 2 and 3", () => {
  const cases = [
    {
      key: bytes(20, 0x0b),
      data: new TextEncoder().encode("Hi There"),
      tag: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    },
    {
      key: new TextEncoder().encode("Jefe"),
      data: new TextEncoder().encode("what do ya want for nothing?"),
      tag: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    },
    {
      key: bytes(20, 0xaa),
      data: bytes(50, 0xdd),
      tag: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    },
  ];
  for (const { key, data, tag } of cases) assert.equal(hex(new ChainMac(key).sign(data)), tag);
});

Deno.test("ChainMac.sign() equals WebCrypto HMAC-SHA256 for random keys and messages, repeatedly", async () => {
  for (let round = 0; round < 20; round++) {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const mac = new ChainMac(key);
    const webKey = await importMacKey(key);
    for (const length of [0, 1, 55, 64, 65, 400, 5000]) {
      const data = crypto.getRandomValues(new Uint8Array(length));
      // Signing twice proves the precomputed states are copied, never consumed.
      assert.equal(hex(mac.sign(data)), hex(await hmacSign(webKey, data)));
      assert.equal(hex(mac.sign(data)), hex(await hmacSign(webKey, data)));
    }
  }
});

Deno.test("ChainMac.forEpoch() derives the same key as epochMacKey()", async () => {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const data = crypto.getRandomValues(new Uint8Array(300));
  const expected = await hmacSign(await epochMacKey(secret), data);
  assert.equal(hex((await ChainMac.forEpoch(secret)).sign(data)), hex(expected));
});

Deno.test("ChainMac refuses an empty key and one longer than a SHA-256 block", () => {
  assert.throws(() => new ChainMac(new Uint8Array(0)), RangeError);
  assert.throws(() => new ChainMac(new Uint8Array(65)), RangeError);
});

Deno.test("ForwardKeyring and ServerKeyring give the same key as ChainMac and as CryptoKey", async () => {
  const root = crypto.getRandomValues(new Uint8Array(32));
  const data = crypto.getRandomValues(new Uint8Array(200));
  const forward = new ForwardKeyring(root, 0);
  for (const epoch of [0, 3, 1]) {
    const key = await forward.macKey(epoch);
    const mac = await forward.chainMac(epoch);
    assert.ok(key !== null && mac !== null);
    const tag = await hmacSign(key, data);
    assert.equal(hex(mac.sign(data)), hex(tag));
    assert.ok(mac.verify(tag, data));
    tag[0] ^= 1;
    assert.ok(!mac.verify(tag, data), "a changed tag verifies");
    assert.ok(!mac.verify(tag.subarray(1), data), "a short tag verifies");
  }
  forward.erase();
  const server = new ServerKeyring({ epoch: 2, since: new Date(), secret: root.slice() });
  assert.equal(await server.chainMac(1), null);
  const serverMac = await server.chainMac(2);
  const serverKey = await server.macKey(2);
  assert.ok(serverMac !== null && serverKey !== null);
  assert.equal(hex(serverMac.sign(data)), hex(await hmacSign(serverKey, data)));
});

Deno.test("ChainMac.verify() accepts the WebCrypto tag and refuses a change in any of its bytes", async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const mac = new ChainMac(key);
  const webKey = await importMacKey(key);
  for (const length of [0, 1, 64, 400]) {
    const data = crypto.getRandomValues(new Uint8Array(length));
    const tag = await hmacSign(webKey, data);
    assert.ok(mac.verify(tag, data));
    for (let i = 0; i < tag.length; i++) {
      for (const bit of [0x01, 0x10, 0x80]) {
        tag[i] ^= bit;
        assert.ok(!mac.verify(tag, data), `byte ${i} bit ${bit} changed`);
        tag[i] ^= bit;
      }
    }
    assert.ok(!mac.verify(new Uint8Array([...tag, 0]), data), "a long tag verifies");
  }
});
