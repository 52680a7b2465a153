import { assertEquals, assertThrows } from "./_test_assert.ts";
import {
  bytesToU32,
  concatBytes,
  fromBase64Url,
  fromHex,
  isAllZero,
  toBase64Url,
  toHex,
  u32ToBytes,
  u64ToBytes,
} from "./bytes.ts";

Deno.test("concatBytes() joins parts in order", () => {
  const joined = concatBytes(new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([3]));
  assertEquals(Array.from(joined), [1, 2, 3]);
});

Deno.test("u64ToBytes() encodes big-endian and rejects out-of-range values", () => {
  assertEquals(toHex(u64ToBytes(0)), "0000000000000000");
  assertEquals(toHex(u64ToBytes(2 ** 32)), "0000000100000000");
  assertEquals(toHex(u64ToBytes(2n ** 64n - 1n)), "ffffffffffffffff");
  assertThrows(() => u64ToBytes(-1), RangeError);
  assertThrows(() => u64ToBytes(2n ** 64n), RangeError);
  assertThrows(() => u64ToBytes(2 ** 53), RangeError);
});

Deno.test("u32ToBytes() and bytesToU32() round-trip and reject bad input", () => {
  assertEquals(toHex(u32ToBytes(0x01020304)), "01020304");
  assertEquals(bytesToU32(fromHex("00ffffffff"), 1), 2 ** 32 - 1);
  assertThrows(() => u32ToBytes(2 ** 32), RangeError);
  assertThrows(() => u32ToBytes(1.5), RangeError);
  assertThrows(() => bytesToU32(new Uint8Array(3)), RangeError);
});

Deno.test("fromHex() decodes either case and rejects odd or non-hex text", () => {
  assertEquals(Array.from(fromHex("00fFa0")), [0, 255, 160]);
  assertThrows(() => fromHex("abc"), SyntaxError);
  assertThrows(() => fromHex("zz"), SyntaxError);
});

Deno.test("fromHex() does not echo the rejected text", () => {
  const error = assertThrows(() => fromHex("secretsecretx"), SyntaxError);
  assertEquals(error.message.includes("secret"), false);
});

Deno.test("fromBase64Url() round-trips and rejects padding, bad characters, stray bits", () => {
  for (let length = 0; length < 40; length++) {
    const bytes = new Uint8Array(length).map((_, index) => (index * 37 + length) & 0xff);
    assertEquals(toHex(fromBase64Url(toBase64Url(bytes))), toHex(bytes), `length ${length}`);
  }
  assertEquals(toBase64Url(new Uint8Array([0xfb, 0xff])), "-_8");
  assertThrows(() => fromBase64Url("AA=="), SyntaxError);
  assertThrows(() => fromBase64Url("A+/A"), SyntaxError);
  assertThrows(() => fromBase64Url("A"), SyntaxError);
  assertThrows(() => fromBase64Url("AB"), SyntaxError); // "AB" leaves non-zero unused bits
});

Deno.test("isAllZero() tells all-zero arrays apart", () => {
  assertEquals(isAllZero(new Uint8Array(32)), true);
  assertEquals(isAllZero(new Uint8Array(0)), true);
  const one = new Uint8Array(32);
  one[31] = 1;
  assertEquals(isAllZero(one), false);
});
