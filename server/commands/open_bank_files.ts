/**
 * Opens what an administrative command works on: the data directory (created if empty) and the
 * ledger (the SQLite file in it, or the PostgreSQL database `--db` names), checking that the two
 * belong to the same bank. Commands close the ledger when done.
 *
 * @module
 */

import { checkBankKey, forgetNewBankKey } from "../bank_key_check.ts";
import { assertSqliteLedgerKept, type DataDir, dataDirPaths, openDataDir } from "../data_dir.ts";
import { describeLedger, ledgerLocation, openLedger } from "../ledger/open_ledger.ts";
import type { LedgerStore } from "../ledger/store.ts";

/** An open data directory and ledger. */
export interface BankFiles {
  dataDir: DataDir;
  store: LedgerStore;
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
  const location = ledgerLocation(options.db, dataDirPaths(dataDir).ledger);
  const opened = await openDataDir(dataDir);
  let store: LedgerStore;
  try {
    if (location.kind === "sqlite") await assertSqliteLedgerKept(opened);
    store = await openLedger(location);
  } catch (error) {
    await forgetNewBankKey(opened);
    throw error;
  }
  try {
    await checkBankKey(store, opened, describeLedger(location));
    return await work({ dataDir: opened, store });
  } finally {
    await store.close();
  }
}
