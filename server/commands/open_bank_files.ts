/**
 * Opens what an administrative command works on: the data directory (created if empty) and the
 * ledger (the SQLite file in it, or the PostgreSQL database `--db` names), checking that the two
 * belong to the same bank. Commands close the ledger when done; `bank serve` opens the same way.
 *
 * @module
 */

import { checkBankKey, forgetNewBankKey } from "../bank_key_check.ts";
import { assertSqliteLedgerKept, type DataDir, dataDirPaths, openDataDir } from "../data_dir.ts";
import {
  describeLedger,
  type LedgerLocation,
  ledgerLocation,
  openLedger,
} from "../ledger/open_ledger.ts";
import type { LedgerStore } from "../ledger/store.ts";

/** An open data directory and ledger. */
export interface BankFiles {
  dataDir: DataDir;
  store: LedgerStore;
}

/** A data directory and its ledger, opened but not yet checked to belong together. */
export interface OpenedBankFiles extends BankFiles {
  /** Where the ledger is. */
  location: LedgerLocation;
}

/**
 * Opens the data directory (creating it if empty) and its ledger, without checking the bank key
 * against the ledger: the caller runs {@link checkBankKey} next (`bank serve` first takes its
 * server id). A bank key this call has just created is removed again when the ledger cannot be
 * opened, so it is not taken for the bank's key at the next start.
 *
 * @param dataDir The data directory.
 * @param db A `postgres://` URL of a shared ledger; absent for the SQLite file.
 * @returns The open directory, ledger and the ledger's location.
 * @throws {LedgerError | DataDirError} When the ledger cannot be opened or the SQLite file of a
 * directory in use is missing.
 */
export async function openBankFiles(
  dataDir: string,
  db: string | undefined,
): Promise<OpenedBankFiles> {
  const location = ledgerLocation(db, dataDirPaths(dataDir).ledger);
  const opened = await openDataDir(dataDir);
  try {
    if (location.kind === "sqlite") await assertSqliteLedgerKept(opened);
    return { dataDir: opened, store: await openLedger(location), location };
  } catch (error) {
    await forgetNewBankKey(opened);
    throw error;
  }
}

/**
 * Opens the data directory and its ledger, runs `work`, and closes the ledger.
 *
 * @param dataDir The data directory.
 * @param work What to do with them.
 * @param options `db`: a `postgres://` URL of a shared ledger; absent for the SQLite file.
 * @returns What `work` returned.
 * @throws {LedgerError | BankKeyError} When the ledger cannot be opened or belongs to another
 * bank key; `work` is not run.
 */
export async function withBankFiles<T>(
  dataDir: string,
  work: (files: BankFiles) => Promise<T>,
  options: { db?: string } = {},
): Promise<T> {
  const { dataDir: opened, store, location } = await openBankFiles(dataDir, options.db);
  try {
    await checkBankKey(store, opened, describeLedger(location));
    return await work({ dataDir: opened, store });
  } finally {
    await store.close();
  }
}
