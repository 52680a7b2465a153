// ChainMac is lib/hmac_state.ts's HMAC (tested there against RFC 4231 and WebCrypto); these tests
// check that the audit log keys it as the WebCrypto keys of the same epochs.
import assert from "node:assert/strict";
import { epochMacKey } from "./audit_keys.ts";
import { hmacSign } from "./audit_crypto.ts";
import { ChainMac } from "./chain_mac.ts";
import { ForwardKeyring, ServerKeyring } from "./keyring.ts";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("ChainMac.forEpoch() derives the same key as epochMacKey()", async () => {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const data = crypto.getRandomValues(new Uint8Array(300));
  const expected = await hmacSign(await epochMacKey(secret), data);
  assert.equal(hex((await ChainMac.forEpoch(secret)).sign(data)), hex(expected));
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
