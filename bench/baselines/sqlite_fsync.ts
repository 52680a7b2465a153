/**
 * The machine's single-transaction fsync ceiling: one-row SQLite transactions, one after
 * another, each made durable by its own fsync (`synchronous=FULL`). The journal mode is WAL, as
 * in the bank's ledger, so this is the best a bank could do committing each transaction alone.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";

/** What the fsync ceiling measurement found. */
export interface FsyncCeilingResult {
  commits: number;
  seconds: number;
  perSecond: number;
  journalMode: string;
}

/**
 * Commits one-row transactions for `measureMs` and counts them.
 *
 * @param dir A scratch directory on the same file system as the bank's data.
 * @param measureMs How long to count.
 * @returns Commits per second.
 */
export function measureFsyncCeiling(dir: string, measureMs: number): FsyncCeilingResult {
  const db = new DatabaseSync(`${dir}/fsync_ceiling.sqlite`);
  try {
    const mode = db.prepare("PRAGMA journal_mode = WAL").get() as { journal_mode: string };
    db.exec("PRAGMA synchronous = FULL");
    db.exec("CREATE TABLE commits (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)");
    const insert = db.prepare("INSERT INTO commits (value) VALUES (?)");
    const begin = db.prepare("BEGIN IMMEDIATE");
    const commit = db.prepare("COMMIT");
    let commits = 0;
    const started = performance.now();
    const stopAt = started + measureMs;
    while (performance.now() < stopAt) {
      begin.run();
      insert.run(commits);
      commit.run();
      commits++;
    }
    const seconds = (performance.now() - started) / 1000;
    return { commits, seconds, perSecond: commits / seconds, journalMode: mode.journal_mode };
  } finally {
    db.close();
  }
}
