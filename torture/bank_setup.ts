/**
 * Prepares a data directory for a torture run: customers with opening balances and one ATM
 * credential per simulated ATM, made with the same functions `bank customer add` and
 * `bank atm add` use, in this process, so that fifty ATMs do not cost fifty process starts.
 *
 * @module
 */

import { hashPin } from "../server/auth/pin_hash.ts";
import { createAtm } from "../server/commands/atm_command.ts";
import { withBankFiles } from "../server/commands/open_bank_files.ts";

/** One customer the torture ATMs log in as. */
export interface TortureCustomer {
  name: string;
  pin: string;
  openingCents: number;
}

/** One simulated ATM: its id, its credential file and the customer who uses it. */
export interface TortureAtmSpec {
  atmId: string;
  credentialPath: string;
  customer: TortureCustomer;
}

/** What the data directory holds after {@link setUpTortureBank}. */
export interface TortureBank {
  dataDir: string;
  customers: TortureCustomer[];
  atms: TortureAtmSpec[];
}

/**
 * Names, PINs and opening balances of `count` customers.
 *
 * @param count How many.
 * @param openingCents Each one's opening balance.
 * @returns The customers `c00`, `c01`, ...
 */
export function tortureCustomers(count: number, openingCents: number): TortureCustomer[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `c${String(i).padStart(2, "0")}`,
    pin: String(1000 + i),
    openingCents,
  }));
}

/**
 * Creates the customers and the ATMs (ATM i is used by customer i modulo the customer count) in
 * a new, empty data directory.
 *
 * @param dataDir The data directory; created when missing.
 * @param options Customers and the number of ATMs.
 * @returns What was created.
 */
export async function setUpTortureBank(
  dataDir: string,
  options: { customers: TortureCustomer[]; atms: number },
): Promise<TortureBank> {
  const atms: TortureAtmSpec[] = [];
  await withBankFiles(dataDir, async (files) => {
    for (const customer of options.customers) {
      const pin = await hashPin(customer.pin, files.dataDir.secrets.pinPepper);
      await files.store.addCustomer({
        name: customer.name,
        pin,
        openingCents: customer.openingCents,
      });
    }
    for (let i = 0; i < options.atms; i++) {
      const atmId = `torture-${String(i).padStart(2, "0")}`;
      // The address in the file is not used: the bank gets a new port at every restart.
      const credentialPath = await createAtm(files, { id: atmId, servers: ["127.0.0.1:1"] });
      atms.push({
        atmId,
        credentialPath,
        customer: options.customers[i % options.customers.length],
      });
    }
  });
  return { dataDir, customers: options.customers, atms };
}
