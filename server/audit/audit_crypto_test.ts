import assert from "node:assert/strict";
import { fromBase64Url, toBase64Url } from "./audit_crypto.ts";

Deno.test("fromBase64Url() decodes what toBase64Url() encodes, for every length up to 70", () => {
  for (let length = 0; length <= 70; length++) {
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    const text = toBase64Url(bytes);
    assert.deepEqual(fromBase64Url(text), bytes, `length ${length}`);
  }
});

Deno.test("fromBase64Url() refuses every text that is not canonical unpadded base64url", () => {
  const refused = [
    "A", // one character cannot hold a byte
    "AB", // unused bits set in the last character (canonical: "AA")
    "AAB", // unused bits set (canonical: "AAA")
    "AA==", // padding
    "AAA=", // padding
    "AA AA", // whitespace, which the native decoder would skip
    "AA\nAA",
    " AAA",
    "AA+A", // base64, not base64url
    "AA/A",
    "AAé", // outside ASCII
    "AA.A",
  ];
  for (const text of refused) assert.equal(fromBase64Url(text), null, JSON.stringify(text));
  assert.deepEqual(fromBase64Url("AA"), new Uint8Array([0]));
  assert.deepEqual(fromBase64Url("AAE"), new Uint8Array([0, 1]));
  assert.deepEqual(fromBase64Url(""), new Uint8Array(0));
});
