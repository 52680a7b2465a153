import { assert, assertEquals } from "./_test_assert.ts";
import { fromHex, toHex } from "./bytes.ts";
import { hmacSha256, importHmacSha256Key, verifyHmacSha256 } from "./hmac.ts";

interface HmacCase {
  name: string;
  key: string;
  data: string;
  mac: string;
  truncatedBytes?: number;
}

const vectors = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/rfc4231_hmac_sha256.json", import.meta.url)),
) as { cases: HmacCase[] };

Deno.test("hmacSha256() matches RFC 4231 test cases 1-7", async () => {
  assertEquals(vectors.cases.length, 7);
  for (const vector of vectors.cases) {
    const tag = await hmacSha256(fromHex(vector.key), fromHex(vector.data));
    const shown = toHex(tag.subarray(0, vector.truncatedBytes ?? tag.length));
    assertEquals(shown, vector.mac, vector.name);
  }
});

Deno.test("verifyHmacSha256() accepts the RFC 4231 tags and rejects a flipped bit", async () => {
  for (const vector of vectors.cases.filter((entry) => entry.truncatedBytes === undefined)) {
    const key = await importHmacSha256Key(fromHex(vector.key));
    const tag = fromHex(vector.mac);
    assert(await verifyHmacSha256(key, tag, fromHex(vector.data)), vector.name);
    tag[tag.length - 1] ^= 0x01;
    assert(!await verifyHmacSha256(key, tag, fromHex(vector.data)), `${vector.name} flipped`);
    assert(!await verifyHmacSha256(key, tag.subarray(0, 16), fromHex(vector.data)), "short tag");
  }
});

Deno.test("importHmacSha256Key() makes a non-extractable key", async () => {
  const key = await importHmacSha256Key(new Uint8Array(32).fill(7));
  assertEquals(key.extractable, false);
});
