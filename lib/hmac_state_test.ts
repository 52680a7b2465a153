import { assert, assertEquals, assertThrows } from "./_test_assert.ts";
import { toHex, utf8 } from "./bytes.ts";
import { hmacSha256, importHmacSha256Key } from "./hmac.ts";
import { HmacSha256State } from "./hmac_state.ts";

Deno.test("HmacSha256State.sign() matches RFC 4231 test cases 1, 2 and 3", () => {
  const cases = [
    {
      key: new Uint8Array(20).fill(0x0b),
      data: utf8("Hi There"),
      tag: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    },
    {
      key: utf8("Jefe"),
      data: utf8("what do ya want for nothing?"),
      tag: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    },
    {
      key: new Uint8Array(20).fill(0xaa),
      data: new Uint8Array(50).fill(0xdd),
      tag: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    },
  ];
  for (const { key, data, tag } of cases) {
    assertEquals(toHex(new HmacSha256State(key).sign(data)), tag);
  }
});

Deno.test("HmacSha256State.sign() over parts equals WebCrypto over their concatenation", async () => {
  for (let round = 0; round < 10; round++) {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const state = new HmacSha256State(key);
    const webKey = await importHmacSha256Key(key);
    for (const length of [0, 1, 63, 64, 65, 300, 4000]) {
      const data = crypto.getRandomValues(new Uint8Array(length));
      const cut = Math.floor(length / 3);
      const expected = toHex(await hmacSha256(webKey, data));
      assertEquals(toHex(state.sign(data)), expected);
      // A second call proves the precomputed states are copied, never consumed.
      assertEquals(toHex(state.sign(data.subarray(0, cut), data.subarray(cut))), expected);
    }
  }
});

Deno.test("HmacSha256State.verify() accepts the right tag only, of the full length", () => {
  const state = new HmacSha256State(crypto.getRandomValues(new Uint8Array(32)));
  const data = utf8("record");
  const tag = state.sign(data);
  assert(state.verify(tag, data));
  assert(state.verify(tag, data.subarray(0, 2), data.subarray(2)));
  assert(!state.verify(tag.subarray(0, 31), data), "a truncated tag verified");
  assert(!state.verify(new Uint8Array(0), data), "an empty tag verified");
  // Both hex digits of every byte of the computed tag are compared.
  for (let i = 0; i < tag.length; i++) {
    for (const bit of [0x01, 0x10, 0x80]) {
      const changed = tag.slice();
      changed[i] ^= bit;
      assert(!state.verify(changed, data), `a tag changed in byte ${i} (bit ${bit}) verified`);
    }
  }
  assert(!state.verify(new Uint8Array([...tag, 0]), data), "a long tag verified");
  assert(!state.verify(tag, utf8("recorD")), "another message verified");
});

Deno.test("HmacSha256State refuses an empty key and one longer than a SHA-256 block", () => {
  assertThrows(() => new HmacSha256State(new Uint8Array(0)), RangeError);
  assertThrows(() => new HmacSha256State(new Uint8Array(65)), RangeError);
});
