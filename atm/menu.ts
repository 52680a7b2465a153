/**
 * The interactive ATM: log in, then a menu of Balance, Deposit, Withdraw, Transfer,
 * Mini-statement and Quit until the customer quits. Every failure is shown in plain words and the
 * menu comes back.
 *
 * @module
 */

import type { BankAction, BankClient } from "./bank_client.ts";
import {
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_REFUSED,
  EXIT_UNREACHABLE,
  LOGIN_ATTEMPTS_MAX,
} from "./constants.ts";
import { BankClientError, BankRefusalError } from "./errors.ts";
import { describeError, formatConfirmation, formatStatement } from "./format.ts";
import { checkPin, normalizeAmount, normalizeUser, validatorOf } from "./input.ts";
import type { Choice, Prompter } from "./prompter.ts";

/** Menu entries, in the order shown. */
type MenuItem = "balance" | "deposit" | "withdraw" | "transfer" | "history" | "quit";

const MENU: readonly Choice<MenuItem>[] = [
  { value: "balance", label: "Balance" },
  { value: "deposit", label: "Deposit" },
  { value: "withdraw", label: "Withdraw" },
  { value: "transfer", label: "Transfer" },
  { value: "history", label: "Mini-statement" },
  { value: "quit", label: "Quit" },
];

/** Options for {@link runMenu}. */
export interface MenuOptions {
  /** The connection to the bank; closed when the menu ends. */
  client: BankClient;
  /** How to talk to the customer. */
  prompter: Prompter;
  /** The customer's name when given on the command line; asked for otherwise. */
  user?: string;
}

/**
 * Runs one customer session: login, then the menu until Quit, Ctrl-C or end of input.
 *
 * @param options Client, prompter and optional user name.
 * @returns The exit status: EXIT_OK after Quit, EXIT_REFUSED after too many failed logins,
 *   EXIT_UNREACHABLE when the bank cannot be reached for the login.
 */
export async function runMenu(options: MenuOptions): Promise<number> {
  const { client, prompter } = options;
  try {
    const status = await logIn(options);
    if (status !== EXIT_OK) return status;
    prompter.success(`Welcome, ${client.customer}.`);
    while (true) {
      const item = await prompter.choose("What would you like to do?", MENU);
      if (item === null || item === "quit") break;
      await runItem(item, options);
    }
    prompter.info("Goodbye. Please take your card.");
    return EXIT_OK;
  } finally {
    await client.close().catch(() => {});
    prompter.close();
  }
}

/** Asks for the user name (when not given) and the PIN until a login succeeds or the limit. */
async function logIn(options: MenuOptions): Promise<number> {
  const { client, prompter } = options;
  for (let attempt = 1; attempt <= LOGIN_ATTEMPTS_MAX; attempt++) {
    const user = options.user ?? await prompter.text({
      message: "User name",
      validate: validatorOf((text) => normalizeUser(text)),
    });
    if (user === null) return EXIT_FAILURE;
    const pin = await prompter.secret({ message: "PIN", validate: validatorOf(checkPin) });
    if (pin === null) return EXIT_FAILURE;
    try {
      await client.login(normalizeUser(user), pin);
      return EXIT_OK;
    } catch (error) {
      prompter.error(describeError(error));
      if (!(error instanceof BankRefusalError)) {
        return error instanceof BankClientError && error.code === "unreachable"
          ? EXIT_UNREACHABLE
          : EXIT_FAILURE;
      }
    }
  }
  prompter.error(`Too many failed logins (${LOGIN_ATTEMPTS_MAX}). Session ended.`);
  return EXIT_REFUSED;
}

/** Carries out one menu entry; failures are shown and the menu comes back. */
async function runItem(item: Exclude<MenuItem, "quit">, options: MenuOptions): Promise<void> {
  const { client, prompter } = options;
  const action = await askAction(item, prompter);
  if (action === null) {
    prompter.info("Cancelled.");
    return;
  }
  try {
    const answer = await client.request(action);
    if (action.op === "history") {
      prompter.block("Mini-statement", formatStatement(answer.history ?? []));
    } else {
      prompter.success(formatConfirmation(action, answer));
    }
  } catch (error) {
    prompter.error(describeError(error));
    if (
      error instanceof BankClientError && error.code === "unreachable" && action.op !== "balance"
    ) {
      prompter.warn("The outcome is unknown: check your balance before trying again.");
    }
  }
}

/** Asks for the fields of one action; null when the customer cancels. */
async function askAction(
  item: Exclude<MenuItem, "quit">,
  prompter: Prompter,
): Promise<BankAction | null> {
  const amountQuestion = (message: string) => ({ message, validate: validatorOf(normalizeAmount) });
  switch (item) {
    case "balance":
    case "history":
      return { op: item };
    case "deposit":
    case "withdraw": {
      const verb = item === "deposit" ? "deposit" : "withdraw";
      const amount = await prompter.text(amountQuestion(`Amount to ${verb}`));
      return amount === null ? null : { op: item, amount: normalizeAmount(amount) };
    }
    case "transfer": {
      const to = await prompter.text({
        message: "Transfer to (user name)",
        validate: validatorOf((text) => normalizeUser(text, "Recipient")),
      });
      if (to === null) return null;
      const amount = await prompter.text(amountQuestion("Amount to transfer"));
      if (amount === null) return null;
      return {
        op: "transfer",
        to: normalizeUser(to, "Recipient"),
        amount: normalizeAmount(amount),
      };
    }
  }
}
