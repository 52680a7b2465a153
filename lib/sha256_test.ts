import { assertEquals } from "./_test_assert.ts";
import { toHex, utf8 } from "./bytes.ts";
import { sha256 } from "./sha256.ts";

Deno.test("sha256() matches the FIPS 180-2 examples", async () => {
  assertEquals(
    toHex(await sha256(utf8("abc"))),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assertEquals(
    toHex(await sha256(utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  assertEquals(
    toHex(await sha256(new Uint8Array(0))),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
});

Deno.test("sha256() equals WebCrypto's digest for random inputs of many lengths", async () => {
  for (const length of [1, 55, 56, 63, 64, 65, 1000, 70_000]) {
    const data = crypto.getRandomValues(new Uint8Array(Math.min(length, 65_536)));
    const expected = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    assertEquals(toHex(await sha256(data)), toHex(expected));
  }
});
