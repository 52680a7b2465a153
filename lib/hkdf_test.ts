import { assertEquals, assertRejects } from "./_test_assert.ts";
import { fromHex, toHex } from "./bytes.ts";
import { deriveHkdfBits, hkdfSha256, importHkdfKey } from "./hkdf.ts";

interface HkdfCase {
  name: string;
  ikm: string;
  salt: string;
  info: string;
  length: number;
  okm: string;
}

const vectors = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/rfc5869_hkdf_sha256.json", import.meta.url)),
) as { cases: HkdfCase[] };

Deno.test("hkdfSha256() matches RFC 5869 test cases 1-3", async () => {
  assertEquals(vectors.cases.length, 3);
  for (const vector of vectors.cases) {
    const okm = await hkdfSha256(
      fromHex(vector.ikm),
      fromHex(vector.salt),
      fromHex(vector.info),
      vector.length,
    );
    assertEquals(toHex(okm), vector.okm, vector.name);
  }
});

Deno.test("hkdfSha256() encodes a text info as UTF-8", async () => {
  const ikm = new Uint8Array(32).fill(1);
  const salt = new Uint8Array(0);
  const fromText = await hkdfSha256(ikm, salt, "label é", 32);
  const fromBytes = await hkdfSha256(ikm, salt, new TextEncoder().encode("label é"), 32);
  assertEquals(toHex(fromText), toHex(fromBytes));
});

Deno.test("deriveHkdfBits() rejects lengths outside 1-8160 bytes", async () => {
  const key = await importHkdfKey(new Uint8Array(32));
  const params = { salt: new Uint8Array(0), info: "x" };
  await assertRejects(deriveHkdfBits(key, params, 0), RangeError);
  await assertRejects(deriveHkdfBits(key, params, 255 * 32 + 1), RangeError);
  assertEquals((await deriveHkdfBits(key, params, 255 * 32)).length, 255 * 32);
});
