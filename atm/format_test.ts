import { AmountError } from "../lib/amount.ts";
import type { HistoryLine } from "../lib/messages.ts";
import { assertEquals, assertIncludes } from "./_test_assert.ts";
import { EXIT_FAILURE, EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE } from "./constants.ts";
import { BankClientError, BankRefusalError, UsageError } from "./errors.ts";
import { describeError, exitCodeFor, formatConfirmation, formatStatement } from "./format.ts";

const HISTORY: HistoryLine[] = [
  {
    at: "2025-01-02T03:04:05.678Z",
    kind: "opening",
    amount: "1000.00",
    counterparty: null,
    balanceAfter: "1000.00",
  },
  {
    at: "2025-01-02T04:00:00.000Z",
    kind: "transfer_out",
    amount: "-25.50",
    counterparty: "bob",
    balanceAfter: "974.50",
  },
  {
    at: "2025-01-03T10:30:00.000Z",
    kind: "transfer_in",
    amount: "5.00",
    counterparty: "carol\u001b[2J",
    balanceAfter: "979.50",
  },
];

Deno.test("formatStatement() lays out one aligned row per transaction", () => {
  const lines = formatStatement(HISTORY).split("\n");
  assertEquals(lines.length, 2 + HISTORY.length);
  assertEquals(lines[0].startsWith("Date (UTC)"), true);
  assertIncludes(lines[2], "2025-01-02 03:04");
  assertIncludes(lines[2], "Opening balance");
  assertIncludes(lines[3], "Transfer to bob");
  assertIncludes(lines[4], "Transfer from carol [2J");
  // Amount and balance columns are right-aligned, so every row ends at the same column.
  const widths = new Set(lines.slice(2).map((line) => line.length));
  assertEquals(widths.size, 1);
  assertEquals(lines[3].endsWith("-25.50   974.50"), true, lines[3]);
});

Deno.test("formatStatement() says so when there are no transactions", () => {
  assertEquals(formatStatement([]), "No transactions yet.");
});

Deno.test("formatConfirmation() names the amount and the new balance", () => {
  const answer = { id: "r1", ok: true as const, op: "deposit" as const, balance: "1050.00" };
  assertEquals(
    formatConfirmation({ op: "deposit", amount: "50.00" }, answer),
    "Deposited 50.00. Balance: 1050.00",
  );
  assertEquals(
    formatConfirmation({ op: "transfer", to: "bob", amount: "5.00" }, {
      ...answer,
      op: "transfer",
    }),
    "Transferred 5.00 to bob. Balance: 1050.00",
  );
});

Deno.test("describeError() and exitCodeFor() tell usage, refusal and outage apart", () => {
  const cases: [unknown, number, string][] = [
    [new UsageError("bad_arguments", "--user is required"), EXIT_USAGE, "--user is required"],
    [new AmountError("zero", "Amount must be more than zero"), EXIT_USAGE, "more than zero"],
    [new BankRefusalError("insufficient_funds", "Not enough", "r1"), EXIT_REFUSED, "Not enough"],
    [new BankRefusalError("busy", "", "r1"), EXIT_REFUSED, "busy right now"],
    [new BankClientError("unreachable", "Cannot reach the bank"), EXIT_UNREACHABLE, "try again"],
    [
      new BankClientError("bad_server", "Server address must be host:port"),
      EXIT_USAGE,
      "host:port",
    ],
    [new TypeError("boom"), EXIT_FAILURE, "Unexpected TypeError: boom"],
  ];
  for (const [error, status, words] of cases) {
    assertEquals(exitCodeFor(error), status, String(error));
    assertIncludes(describeError(error), words);
  }
});
