import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { decodeRequest, decodeResponse, encodeMessage, MessageError } from "./messages.ts";

function refusedWith(text: string) {
  return (error: unknown) => error instanceof MessageError && error.message.includes(text);
}

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

Deno.test("decodeRequest() keeps only the documented fields of each operation", () => {
  const login = decodeRequest(encode({ id: "r1", op: "login", user: "alice", pin: "1111", x: 1 }));
  assertEquals(login, { id: "r1", op: "login", user: "alice", pin: "1111" });
  const transfer = decodeRequest(encode({ id: "r2", op: "transfer", to: "bob", amount: "5.00" }));
  assertEquals(transfer, { id: "r2", op: "transfer", to: "bob", amount: "5.00" });
  assertEquals(decodeRequest(encode({ id: "r3", op: "balance" })), { id: "r3", op: "balance" });
});

Deno.test("decodeRequest() refuses what is not a request", () => {
  const cases: [unknown, string][] = [
    [[1, 2], "Message is not a JSON object"],
    [{ op: "balance" }, 'Field "id" must be a non-empty string'],
    [{ id: "r", op: "steal" }, 'Unknown operation: "steal"'],
    [{ id: "r", op: "deposit" }, 'Field "amount" must be a non-empty string'],
    [{ id: "r", op: "deposit", amount: 5 }, 'Field "amount" must be a non-empty string'],
    [{ id: "x".repeat(65), op: "balance" }, 'Field "id" is longer than 64 characters'],
    [{ id: "r", op: "login", user: "alice", pin: "1".repeat(33) }, 'Field "pin" is longer than 32'],
  ];
  for (const [value, message] of cases) {
    throws(() => decodeRequest(encode(value)), refusedWith(message));
  }
  throws(() => decodeRequest(new Uint8Array([0xff, 0xfe])), refusedWith("not valid UTF-8"));
  throws(() => decodeRequest(new TextEncoder().encode("{")), refusedWith("not valid"));
});

Deno.test("decodeResponse() reads back what encodeMessage() wrote", () => {
  const ok = { id: "r1", ok: true as const, op: "balance" as const, balance: "10.00" };
  assertEquals(decodeResponse(encodeMessage(ok)), ok);
  const refused = { id: "r2", ok: false as const, error: "busy" as const, message: "Try later" };
  assertEquals(decodeResponse(encodeMessage(refused)), refused);
  throws(() => decodeResponse(encode({ id: "r3", ok: false })), refusedWith("Refusal"));
});
