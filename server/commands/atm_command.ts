/**
 * `bank atm add` and `bank atm revoke`: ATM credentials. The bank keeps each ATM's pre-shared key
 * wrapped under its bank key in the ledger database; the ATM gets the key in an owner-only
 * credential file.
 *
 * @module
 */

import { PSK_BYTES, writeCredential } from "../../lib/mod.ts";
import { wrapAtmKey } from "../bank_secrets.ts";
import { CliError } from "./cli_error.ts";
import { type BankFiles, withBankFiles } from "./open_bank_files.ts";
import { recordAdminAction } from "./admin_audit.ts";

/** ATM ids: short, printable, safe in file names and logs. */
const ATM_ID_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,31}$/;

/**
 * Validates an ATM id.
 *
 * @param id The id as typed.
 * @throws {CliError} When it is not 1-32 characters of a-z, 0-9, `_`, `.`, `-`.
 */
export function validateAtmId(id: string): void {
  if (!ATM_ID_PATTERN.test(id)) {
    throw new CliError(
      `ATM id must be 1-32 characters of a-z, 0-9, "_", ".", "-" and start with a letter or ` +
        `digit: got ${JSON.stringify(id)}`,
    );
  }
}

/**
 * Creates an ATM key, stores it wrapped in the ledger, and writes the credential file.
 *
 * @param files The open data directory and ledger.
 * @param options ATM id, credential path and bank addresses.
 * @returns The credential file's path.
 * @throws {CliError} On a bad or duplicate id or an existing file; nothing is changed.
 */
export async function createAtm(
  files: BankFiles,
  options: { id: string; out?: string; servers: string[] },
): Promise<string> {
  validateAtmId(options.id);
  const path = options.out ?? `${files.dataDir.paths.atms}/${options.id}.json`;
  const psk = crypto.getRandomValues(new Uint8Array(PSK_BYTES));
  try {
    if (await files.store.findAtm(options.id)) {
      throw new CliError(`ATM ${options.id} already exists; revoke it or pick another id`);
    }
    // The file first: if it cannot be written, the database is left unchanged.
    await writeCredential(path, { atmId: options.id, psk, servers: options.servers });
    try {
      await files.store.addAtm(
        options.id,
        await wrapAtmKey(files.dataDir.secrets, options.id, psk),
      );
    } catch (error) {
      await Deno.remove(path).catch(() => {});
      throw error;
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError((error as Error).message);
  } finally {
    psk.fill(0);
  }
  const event = { type: "atm_add", atmId: options.id, servers: options.servers };
  await recordAdminAction(files.dataDir.paths.root, event, `ATM ${options.id} was added`);
  return path;
}

/** Flags of `bank atm add`. */
export interface AtmAddFlags {
  data: string;
  /** A `postgres://` URL of a shared ledger; absent: SQLite in `data`. */
  db?: string;
  out?: string;
  server: string[];
}

/**
 * `bank atm add ID`.
 *
 * @param id The new ATM's id.
 * @param flags The command's flags.
 */
export async function runAtmAdd(id: string, flags: AtmAddFlags): Promise<void> {
  const path = await withBankFiles(
    flags.data,
    (files) => createAtm(files, { id, out: flags.out, servers: flags.server }),
    { db: flags.db },
  );
  console.log(`Wrote the credential of ATM ${id} to ${path} (owner-only). Keep it secret.`);
}

/**
 * `bank atm revoke ID`: the ATM's next handshake fails.
 *
 * @param id The ATM's id.
 * @param flags `data`: the data directory; `db`: a shared ledger's URL.
 * @throws {CliError} When no such ATM exists.
 */
export async function runAtmRevoke(
  id: string,
  flags: { data: string; db?: string },
): Promise<void> {
  await withBankFiles(flags.data, async ({ store }) => {
    if (!await store.revokeAtm(id)) throw new CliError(`no ATM with id ${JSON.stringify(id)}`);
  }, { db: flags.db });
  await recordAdminAction(flags.data, { type: "atm_revoke", atmId: id }, `ATM ${id} was revoked`);
  // The file may be anywhere (`atm add --out`), so the message names no folder.
  console.log(`Revoked ATM ${id}: its credential file no longer works.`);
}
