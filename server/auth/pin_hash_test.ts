import { createHmac, pbkdf2Sync } from "node:crypto";
import {
  hashPin,
  PIN_ITERATIONS,
  PIN_ITERATIONS_MAX,
  PIN_SALT_BYTES,
  PinError,
  type PinErrorCode,
  validatePin,
  verifyAgainstDummy,
  verifyPin,
} from "./pin_hash.ts";

const PEPPER = new Uint8Array(32).fill(7);
const OTHER_PEPPER = new Uint8Array(32).fill(8);

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

async function expectPinError(run: () => unknown, code: PinErrorCode): Promise<PinError> {
  try {
    await run();
  } catch (error) {
    assert(error instanceof PinError, `expected PinError, got ${String(error)}`);
    assert(error.code === code, `expected code ${code}, got ${error.code}`);
    return error;
  }
  throw new Error(`expected PinError ${code}, nothing was thrown`);
}

/** The documented construction, computed independently with node:crypto. */
function referenceHash(pin: string, salt: Uint8Array, iterations: number): Uint8Array {
  const stretched = pbkdf2Sync(pin, salt, iterations, 32, "sha256");
  return new Uint8Array(createHmac("sha256", PEPPER).update(stretched).digest());
}

Deno.test("hashPin() matches HMAC(pepper, PBKDF2(pin, salt, iterations)) from node:crypto", async () => {
  const stored = await hashPin("4821", PEPPER);
  assert(stored.iterations === PIN_ITERATIONS, "iterations are stored");
  assert(stored.salt.byteLength === PIN_SALT_BYTES, "salt size");
  const expected = referenceHash("4821", stored.salt, stored.iterations);
  assert(expected.every((byte, i) => stored.hash[i] === byte), "hash differs from reference");
});

Deno.test("hashPin() uses a fresh salt each time", async () => {
  const [a, b] = await Promise.all([hashPin("1111", PEPPER), hashPin("1111", PEPPER)]);
  assert(a.salt.some((byte, i) => b.salt[i] !== byte), "salts are equal");
  assert(a.hash.some((byte, i) => b.hash[i] !== byte), "hashes are equal");
});

Deno.test("verifyPin() accepts the right PIN and refuses a wrong one", async () => {
  const stored = await hashPin("123456", PEPPER);
  assert(await verifyPin("123456", stored, PEPPER), "right PIN refused");
  assert(!await verifyPin("123457", stored, PEPPER), "wrong PIN accepted");
  assert(!await verifyPin("12345", stored, PEPPER), "prefix accepted");
});

Deno.test("verifyPin() refuses the right PIN under a different pepper", async () => {
  const stored = await hashPin("123456", PEPPER);
  assert(!await verifyPin("123456", stored, OTHER_PEPPER), "accepted with another pepper");
});

Deno.test("verifyPin() refuses when one bit of the stored hash or salt is flipped", async () => {
  const stored = await hashPin("2468", PEPPER);
  for (const field of ["hash", "salt"] as const) {
    const tampered = { ...stored, [field]: new Uint8Array(stored[field]) };
    tampered[field][3] ^= 0x10;
    assert(!await verifyPin("2468", tampered, PEPPER), `accepted with flipped ${field}`);
  }
});

Deno.test("verifyPin() uses the iteration count stored with the hash", async () => {
  const salt = new Uint8Array(PIN_SALT_BYTES).fill(1);
  const old = {
    salt,
    hash: new Uint8Array(referenceHash("9090", salt, 20_000)),
    iterations: 20_000,
  };
  assert(await verifyPin("9090", old, PEPPER), "old hash with its own count refused");
  assert(!await verifyPin("9090", { ...old, iterations: 20_001 }, PEPPER), "count ignored");
});

Deno.test("verifyPin() returns false for a PIN of the wrong form", async () => {
  const stored = await hashPin("0000", PEPPER);
  for (const pin of ["", "abc", "00 00", "0".repeat(13)]) {
    assert(!await verifyPin(pin, stored, PEPPER), `accepted ${JSON.stringify(pin)}`);
  }
});

Deno.test("verifyPin() refuses a stored record with an unusable iteration count", async () => {
  const stored = await hashPin("1357", PEPPER);
  for (const iterations of [0, 1.5, PIN_ITERATIONS_MAX + 1, NaN]) {
    await expectPinError(
      () => verifyPin("1357", { ...stored, iterations }, PEPPER),
      "stored_invalid",
    );
  }
  const short = { ...stored, hash: stored.hash.slice(0, 16) };
  await expectPinError(() => verifyPin("1357", short, PEPPER), "stored_invalid");
});

Deno.test("hashPin() refuses a pepper shorter than 32 bytes", async () => {
  await expectPinError(() => hashPin("1234", new Uint8Array(16)), "pepper_invalid");
});

Deno.test("verifyAgainstDummy() always returns false", async () => {
  for (const pin of ["1234", "0000", "not a pin"]) {
    assert(await verifyAgainstDummy(pin, PEPPER) === false, `dummy matched ${pin}`);
  }
});

Deno.test("validatePin() accepts 4 to 12 digits", () => {
  for (const pin of ["0000", "1234", "123456789012"]) validatePin(pin);
});

Deno.test("validatePin() refuses other PINs without repeating them", async () => {
  for (const pin of ["", "123", "1234567890123", "12a4", " 1234", "1234\n", "١٢٣٤"]) {
    const error = await expectPinError(() => validatePin(pin), "pin_format");
    assert(pin === "" || !error.message.includes(pin), "message repeats the PIN");
  }
});

Deno.test("hashPin() refuses a PIN of the wrong form", async () => {
  await expectPinError(() => hashPin("12", PEPPER), "pin_format");
});
