/**
 * `bank serve --demo`: on an empty data directory, three customers with known PINs and three ATM
 * credential files, and the exact `atm` commands to try them.
 *
 * @module
 */

import { hashPin } from "../auth/pin_hash.ts";
import {
  BANK_HOST_DEFAULT,
  BANK_PORT_DEFAULT,
  DEMO_ATM_IDS,
  DEMO_CUSTOMERS,
} from "../constants.ts";
import { createAtm } from "./atm_command.ts";
import { withBankFiles } from "./open_bank_files.ts";
import { recordAdminAction } from "./admin_audit.ts";

/** What the demo set up, and how to print the commands once the port is known. */
export interface Demo {
  print(port: number): void;
}

/**
 * Creates the demo customers and ATMs unless the ledger already has customers.
 *
 * @param dataDir The data directory.
 * @param port The port the bank will listen on, written into the credential files.
 * @param db A `postgres://` URL of a shared ledger; absent for the SQLite file.
 * @returns A printer for the commands to try.
 */
export async function setUpDemo(dataDir: string, port: number, db?: string): Promise<Demo> {
  const server = `${BANK_HOST_DEFAULT}:${port === 0 ? BANK_PORT_DEFAULT : port}`;
  const credentials = await withBankFiles(dataDir, async (files) => {
    const paths = DEMO_ATM_IDS.map((id) => `${files.dataDir.paths.atms}/${id}.json`);
    if ((await files.store.listCustomers()).length > 0) return paths;
    for (const customer of DEMO_CUSTOMERS) {
      const pin = await hashPin(customer.pin, files.dataDir.secrets.pinPepper);
      await files.store.addCustomer({
        name: customer.name,
        pin,
        openingCents: customer.openingCents,
      });
      await recordAdminAction(
        dataDir,
        { type: "customer_add", customer: customer.name, openingCents: customer.openingCents },
        `Demo customer ${customer.name} was added`,
      );
    }
    for (const id of DEMO_ATM_IDS) {
      await createAtm(files, { id, servers: [server] });
    }
    return paths;
  }, { db });
  return {
    print(port: number) {
      const lines = ["", "Demo bank is ready. Try it in other terminals:", ""];
      DEMO_CUSTOMERS.forEach((customer, i) => {
        lines.push(
          `  deno task atm --user ${customer.name} --credential ${credentials[i]} ` +
            `--server 127.0.0.1:${port}    # PIN ${customer.pin}`,
        );
      });
      lines.push("");
      console.log(lines.join("\n"));
    },
  };
}
