import { assertEquals, assertThrows } from "./_test_assert.ts";
import { BankClientError } from "./errors.ts";
import { parseServerAddress } from "./server_address.ts";

Deno.test("parseServerAddress() reads host and port", () => {
  assertEquals(parseServerAddress("127.0.0.1:4000"), { hostname: "127.0.0.1", port: 4000 });
  assertEquals(parseServerAddress("bank.example:1"), { hostname: "bank.example", port: 1 });
  assertEquals(parseServerAddress("[::1]:65535"), { hostname: "::1", port: 65535 });
});

Deno.test("parseServerAddress() rejects text that is not host:port", () => {
  const cases = [
    "",
    "127.0.0.1",
    ":4000",
    "host:",
    "host:0",
    "host:65536",
    "host:40a",
    "a b:1",
    "::1:4000",
  ];
  for (const text of cases) {
    const error = assertThrows(() => parseServerAddress(text), BankClientError);
    assertEquals(error.code, "bad_server", text);
  }
});
