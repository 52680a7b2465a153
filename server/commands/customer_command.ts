/**
 * `bank customer add` and `bank customer list`.
 *
 * @module
 */

import { formatCents, parseAmount } from "../../lib/amount.ts";
import { hashPin, validatePin } from "../auth/pin_hash.ts";
import { CliError } from "./cli_error.ts";
import { withBankFiles } from "./open_bank_files.ts";
import { recordAdminAction } from "./admin_audit.ts";

/** Flags of `bank customer add`. */
export interface CustomerAddFlags {
  data: string;
  /** A `postgres://` URL of a shared ledger; absent: SQLite in `data`. */
  db?: string;
  deposit?: string;
  pinStdin?: boolean;
}

/**
 * Adds a customer with a PIN and an optional opening balance.
 *
 * @param name The customer's user name.
 * @param flags The command's flags.
 * @throws {CliError} On a bad amount, a bad PIN or a name already taken; nothing is changed.
 */
export async function runCustomerAdd(name: string, flags: CustomerAddFlags): Promise<void> {
  let openingCents = 0;
  if (flags.deposit !== undefined) {
    try {
      openingCents = parseAmount(flags.deposit);
    } catch (error) {
      throw new CliError(`--deposit: ${(error as Error).message}`);
    }
  }
  const pin = await readPinFor(name, flags.pinStdin === true);
  await withBankFiles(flags.data, async ({ dataDir, store }) => {
    const pinHash = await hashPin(pin, dataDir.secrets.pinPepper);
    try {
      await store.addCustomer({ name, pin: pinHash, openingCents });
    } catch (error) {
      throw new CliError((error as Error).message);
    }
  }, { db: flags.db });
  const event = { type: "customer_add", customer: name, openingCents };
  await recordAdminAction(flags.data, event, `Customer ${name} was added`);
  console.log(`Added customer ${name} with balance ${formatCents(openingCents)}.`);
}

async function readPinFor(name: string, fromStdin: boolean): Promise<string> {
  const { readPin } = await import("./read_pin.ts");
  const pin = await readPin({ fromStdin, label: `PIN for ${name}` });
  try {
    validatePin(pin);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  return pin;
}

/**
 * Prints every customer with their balance.
 *
 * @param flags `data`: the data directory; `db`: a shared ledger's URL.
 */
export async function runCustomerList(flags: { data: string; db?: string }): Promise<void> {
  await withBankFiles(flags.data, async ({ store }) => {
    const customers = await store.listCustomers();
    if (customers.length === 0) {
      console.log("No customers yet. Add one with: bank customer add NAME --deposit 100.00");
      return;
    }
    const width = Math.max(...customers.map((c) => c.name.length), 8);
    for (const customer of customers) {
      const locked = customer.lockedUntil !== null && customer.lockedUntil > Date.now()
        ? `  locked until ${new Date(customer.lockedUntil).toISOString()}`
        : "";
      console.log(
        `${customer.name.padEnd(width)}  ${
          formatCents(customer.balanceCents).padStart(14)
        }${locked}`,
      );
    }
  }, { db: flags.db });
}
