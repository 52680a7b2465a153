import fc from "fast-check";
import {
  AMOUNT_CENTS_MAX,
  AmountError,
  type AmountErrorCode,
  BALANCE_CENTS_MAX,
  formatCents,
  parseAmount,
} from "./amount.ts";

function assertEquals<T>(actual: T, expected: T, label: string): void {
  if (actual !== expected) {
    throw new Error(`${label}: expected ${String(expected)}, got ${String(actual)}`);
  }
}

function expectAmountError(text: string, code: AmountErrorCode): AmountError {
  try {
    parseAmount(text);
  } catch (error) {
    if (!(error instanceof AmountError)) throw error;
    assertEquals(error.code, code, `code for ${JSON.stringify(text)}`);
    assertEquals(error.name, "AmountError", "name");
    return error;
  }
  throw new Error(`parseAmount(${JSON.stringify(text)}) did not throw`);
}

Deno.test("parseAmount() accepts plain decimals with up to two fractional digits", () => {
  const cases: [string, number][] = [
    ["1", 100],
    ["0.01", 1],
    ["0.1", 10],
    ["12.5", 1250],
    ["12.50", 1250],
    ["1234.56", 123456],
    ["1000000", AMOUNT_CENTS_MAX],
    ["1000000.00", AMOUNT_CENTS_MAX],
  ];
  for (const [text, cents] of cases) assertEquals(parseAmount(text), cents, text);
});

Deno.test("parseAmount() rejects exponent notation and other number spellings", () => {
  const malformed = [
    "1e3",
    "1E3",
    "NaN",
    "Infinity",
    "-Infinity",
    "0x10",
    "0b1",
    "+5",
    "1,000",
    "1_000",
    "١٢",
    "12.3.4",
    "abc",
  ];
  for (const text of malformed) expectAmountError(text, "malformed");
});

Deno.test("parseAmount() rejects spaces, bare points and leading zeros", () => {
  for (const text of [" 1", "1 ", "1 000", "\t1", "1.", ".5", "-.5", "01", "00.50", "007"]) {
    expectAmountError(text, "malformed");
  }
});

Deno.test("parseAmount() rejects empty text", () => {
  expectAmountError("", "empty");
});

Deno.test("parseAmount() rejects more than two decimals", () => {
  for (const text of ["1.234", "0.001", "5.000"]) expectAmountError(text, "too_many_decimals");
});

Deno.test("parseAmount() rejects zero", () => {
  for (const text of ["0", "0.0", "0.00"]) expectAmountError(text, "zero");
});

Deno.test("parseAmount() rejects negative amounts", () => {
  for (const text of ["-1", "-0.01", "-0", "-12.50"]) expectAmountError(text, "negative");
});

Deno.test("parseAmount() rejects amounts over AMOUNT_CENTS_MAX", () => {
  for (const text of ["1000000.01", "1000001", "99999999999999999999", "9".repeat(400)]) {
    expectAmountError(text, "over_limit");
  }
});

Deno.test("parseAmount() names the input in its message, shortened when long", () => {
  const error = expectAmountError("12.3x", "malformed");
  if (!error.message.includes('"12.3x"')) throw new Error(`message lacks input: ${error.message}`);
  const long = expectAmountError("x".repeat(1000), "malformed");
  if (long.message.length > 200) throw new Error(`message too long: ${long.message.length}`);
});

Deno.test("parseAmount() rejects a value that is not text", () => {
  expectAmountError(12 as unknown as string, "malformed");
});

Deno.test("formatCents() writes two fractional digits and a sign", () => {
  const cases: [number, string][] = [
    [0, "0.00"],
    [1, "0.01"],
    [10, "0.10"],
    [123450, "1234.50"],
    [-5, "-0.05"],
    [-123456, "-1234.56"],
    [BALANCE_CENTS_MAX, "100000000000.00"],
  ];
  for (const [cents, text] of cases) assertEquals(formatCents(cents), text, String(cents));
});

Deno.test("formatCents() rejects values that are not safe integers", () => {
  for (const value of [0.5, NaN, Infinity, 2 ** 53]) {
    let threw = false;
    try {
      formatCents(value);
    } catch (error) {
      threw = error instanceof RangeError;
    }
    if (!threw) throw new Error(`formatCents(${value}) did not throw RangeError`);
  }
});

Deno.test("parseAmount() inverts formatCents() for every valid amount", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: AMOUNT_CENTS_MAX }), (cents) => {
      assertEquals(parseAmount(formatCents(cents)), cents, `round trip of ${cents}`);
    }),
    { numRuns: 2_000 },
  );
});

Deno.test("parseAmount() returns cents in range or throws AmountError for any text", () => {
  const digitsLike = fc.stringMatching(/^-?[0-9]{0,8}(\.[0-9]{0,3})?$/);
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 16 }), digitsLike), (text) => {
      try {
        const cents = parseAmount(text);
        if (!Number.isSafeInteger(cents) || cents < 1 || cents > AMOUNT_CENTS_MAX) {
          throw new Error(`out of range: ${cents} from ${JSON.stringify(text)}`);
        }
        assertEquals(Math.round(Number(text) * 100), cents, `value of ${JSON.stringify(text)}`);
      } catch (error) {
        if (!(error instanceof AmountError)) throw error;
      }
    }),
    { numRuns: 2_000 },
  );
});
