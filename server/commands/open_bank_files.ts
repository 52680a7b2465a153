/**
 * Opens what an administrative command works on: the data directory (created if empty) and the
 * ledger. Commands close the ledger when done.
 *
 * @module
 */

import { type DataDir, openDataDir } from "../data_dir.ts";
import { openSqliteStore } from "../ledger/sqlite_store.ts";
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
 * @returns What `work` returned.
 */
export async function withBankFiles<T>(
  dataDir: string,
  work: (files: BankFiles) => Promise<T>,
): Promise<T> {
  const opened = await openDataDir(dataDir);
  const store = await openSqliteStore(opened.paths.ledger);
  try {
    return await work({ dataDir: opened, store });
  } finally {
    await store.close();
  }
}
