import { assertEquals, assertThrows } from "./_test_assert.ts";
import { fromHex, toHex } from "./bytes.ts";
import {
  generateX25519KeyPair,
  importX25519PrivateKey,
  X25519Error,
  x25519SharedSecret,
} from "./x25519.ts";

interface X25519Vectors {
  scalarMultiplication: { scalar: string; u: string; output: string }[];
  iterated: { iterations: number; output: string }[];
  diffieHellman: Record<
    "alicePrivate" | "alicePublic" | "bobPrivate" | "bobPublic" | "shared",
    string
  >;
}

const vectors = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/rfc7748_x25519.json", import.meta.url)),
) as X25519Vectors;

/** X25519(k, u) through the library's wrappers. */
function x25519(scalar: Uint8Array, u: Uint8Array): Uint8Array {
  return x25519SharedSecret(importX25519PrivateKey(scalar), u);
}

const BASE_POINT = fromHex("09" + "00".repeat(31));

Deno.test("x25519SharedSecret() matches the RFC 7748 section 5.2 vectors", () => {
  for (const vector of vectors.scalarMultiplication) {
    const output = x25519(fromHex(vector.scalar), fromHex(vector.u));
    assertEquals(toHex(output), vector.output, vector.scalar);
  }
});

Deno.test("x25519SharedSecret() matches the RFC 7748 section 5.2 iterated vectors", () => {
  // 1 and 1,000 iterations; the 1,000,000-iteration vector would take minutes, so it is left out.
  const wanted = new Map(vectors.iterated.map((entry) => [entry.iterations, entry.output]));
  let k = BASE_POINT;
  let u = BASE_POINT;
  for (let iteration = 1; iteration <= 1000; iteration++) {
    const next = new Uint8Array(x25519(k, u));
    u = k;
    k = next;
    const output = wanted.get(iteration);
    if (output !== undefined) assertEquals(toHex(k), output, `after ${iteration}`);
  }
});

Deno.test("x25519SharedSecret() reproduces the RFC 7748 section 6.1 exchange", () => {
  const dh = vectors.diffieHellman;
  const alice = importX25519PrivateKey(fromHex(dh.alicePrivate));
  const bob = importX25519PrivateKey(fromHex(dh.bobPrivate));
  assertEquals(toHex(x25519SharedSecret(alice, BASE_POINT)), dh.alicePublic);
  assertEquals(toHex(x25519SharedSecret(bob, BASE_POINT)), dh.bobPublic);
  assertEquals(toHex(x25519SharedSecret(alice, fromHex(dh.bobPublic))), dh.shared);
  assertEquals(toHex(x25519SharedSecret(bob, fromHex(dh.alicePublic))), dh.shared);
});

Deno.test("x25519SharedSecret() refuses low-order public keys and wrong lengths", () => {
  const pair = generateX25519KeyPair();
  // u = 0 and u = 1 are points of small order: the shared secret would be all zero.
  for (const u of ["00".repeat(32), "01" + "00".repeat(31)]) {
    assertThrows(() => x25519SharedSecret(pair.privateKey, fromHex(u)), X25519Error);
  }
  const short = assertThrows(
    () => x25519SharedSecret(pair.privateKey, new Uint8Array(31)),
    X25519Error,
  );
  assertEquals(short.code, "bad_public_key");
  assertEquals(short.message.includes("31"), true);
  assertThrows(() => x25519SharedSecret(pair.privateKey, new Uint8Array(33)), X25519Error);
});

Deno.test("generateX25519KeyPair() makes distinct X25519 key pairs", () => {
  const a = generateX25519KeyPair();
  const b = generateX25519KeyPair();
  assertEquals(a.publicKey.length, 32);
  assertEquals(toHex(a.publicKey) === toHex(b.publicKey), false);
  assertEquals(a.privateKey.type, "private");
  assertEquals(a.privateKey.asymmetricKeyType, "x25519");
});
