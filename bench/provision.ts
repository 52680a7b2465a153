/**
 * Customers and ATM credentials for the benchmark, created in the data directory before the bank
 * starts, through the same code `bank customer add` and `bank atm add` run (`hashPin` and
 * `addCustomer`, `createAtm` with its owner-only credential file). Running the commands a thousand
 * times as processes would take longer than the whole benchmark, so they run in this process.
 *
 * One PBKDF2 hash serves every customer (they share the PIN): hashing it anew for each of a
 * thousand customers costs a minute of setup and changes nothing that is measured, since each
 * login is still checked by the bank with the full iteration count.
 *
 * @module
 */

import { readCredential } from "../lib/mod.ts";
import { hashPin } from "../server/auth/pin_hash.ts";
import { createAtm } from "../server/commands/atm_command.ts";
import { withBankFiles } from "../server/commands/open_bank_files.ts";
import { BENCH_PIN, OPENING_CENTS } from "./config.ts";

/** One simulated ATM: its credential and the customer who uses it. */
export interface BenchAtm {
  atmId: string;
  psk: Uint8Array;
  customer: string;
  /** Another customer, to transfer to. */
  peer: string;
}

/** Most ATMs one run provisions (ids and names are zero-padded to this width). */
export const BENCH_ATMS_MAX = 99_999;

/**
 * The customer name of ATM number `index`.
 *
 * @param index 0-based.
 * @returns The name.
 */
export function customerName(index: number): string {
  return `cust-${String(index).padStart(5, "0")}`;
}

/**
 * Creates `count` customers and `count` ATM credentials in a data directory (created if empty).
 *
 * @param dataDir The bank's data directory; the bank must not be running yet.
 * @param count How many ATM/customer pairs, at least 2 (transfers need a second customer).
 * @returns The ATMs, in order, each with its own customer.
 * @throws {RangeError} When `count` is not 2 to {@link BENCH_ATMS_MAX}.
 */
export async function provisionAtms(dataDir: string, count: number): Promise<BenchAtm[]> {
  if (!Number.isSafeInteger(count) || count < 2 || count > BENCH_ATMS_MAX) {
    throw new RangeError(`ATM count must be 2 to ${BENCH_ATMS_MAX}: got ${count}`);
  }
  return await withBankFiles(dataDir, async (files) => {
    const pin = await hashPin(BENCH_PIN, files.dataDir.secrets.pinPepper);
    const atms: BenchAtm[] = [];
    for (let i = 0; i < count; i++) {
      const customer = customerName(i);
      await files.store.addCustomer({ name: customer, pin, openingCents: OPENING_CENTS });
      const atmId = `atm-${String(i).padStart(5, "0")}`;
      const path = await createAtm(files, { id: atmId, servers: ["127.0.0.1:4000"] });
      const credential = await readCredential(path);
      atms.push({ atmId, psk: credential.psk, customer, peer: customerName((i + 1) % count) });
    }
    return atms;
  });
}
