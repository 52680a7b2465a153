/**
 * `bank audit --decrypt | --verify`: reads the audit log with the chain head the ledger holds,
 * so a log cut short is detected. Only reads: it creates nothing in the data directory.
 *
 * Exit codes: 0 the log verified, 1 a problem in the log or its keys (named on stderr, or in the
 * summary of --verify), 2 bad usage.
 *
 * @module
 */

import { AUDIT_EXIT, type ChainHead, runAuditCommand } from "../audit/mod.ts";
import { dataDirPaths } from "../data_dir.ts";
import { ledgerLocation, openLedger } from "../ledger/open_ledger.ts";
import { DATA_DIR_DEFAULT } from "../constants.ts";
import { runAuditMulti } from "./audit_multi_command.ts";
import { CliError, EXIT } from "./cli_error.ts";

/** Flags of `bank audit`. */
export interface AuditFlags {
  /** One data directory, or (with --verify) several servers' directories to check together. */
  data: string | string[];
  /** A `postgres://` URL of a shared ledger; absent: SQLite in `data`. */
  db?: string;
  decrypt?: boolean;
  verify?: boolean;
  since?: string;
  user?: string;
  pretty?: boolean;
  offlineKey?: string;
  serverId: string;
}

/**
 * Runs the audit command; exits non-zero on the first problem.
 *
 * @param options The command's flags.
 * @throws {CliError} On a bad flag combination, a missing data directory, or a failed check.
 */
export async function runAudit(options: AuditFlags): Promise<void> {
  const dirs = typeof options.data === "string" ? [options.data] : options.data;
  const flags = { ...options, data: dirs.length === 0 ? DATA_DIR_DEFAULT : dirs[0] };
  if (Boolean(flags.decrypt) === Boolean(flags.verify)) {
    throw new CliError("give exactly one of --decrypt or --verify", EXIT.usage);
  }
  if (dirs.length > 1) {
    if (!flags.verify || flags.offlineKey !== undefined) {
      throw new CliError("several --data go with --verify, without --offline-key", EXIT.usage);
    }
    return await runAuditMulti({ dataDirs: dirs, db: flags.db });
  }
  if (flags.since !== undefined && Number.isNaN(Date.parse(flags.since))) {
    throw new CliError(`--since: not an ISO time: ${JSON.stringify(flags.since)}`, EXIT.usage);
  }
  if (!await isDirectory(flags.data)) {
    throw new CliError(`no data directory at ${flags.data} (give --data DIR)`);
  }
  const ledgerHead = await readLedgerHead(flags.data, flags.serverId, flags.db);
  const code = await runAuditCommand(
    { ...flags, dataDir: flags.data, ledgerHead },
    {
      stdout: Deno.stdout.writable,
      stderr: Deno.stderr.writable,
      stderrIsTerminal: Deno.stderr.isTerminal(),
    },
  );
  if (code === AUDIT_EXIT.usage) throw new CliError("see bank audit --help", EXIT.usage);
  if (code !== AUDIT_EXIT.ok) throw new CliError("the audit log did not verify (see above)", code);
}

/** The head the ledger holds; without a ledger (a copied log) a cut tail goes unnoticed. */
async function readLedgerHead(
  dataDir: string,
  serverId: string,
  db: string | undefined,
): Promise<ChainHead | undefined> {
  const location = ledgerLocation(db, dataDirPaths(dataDir).ledger);
  if (location.kind === "sqlite") {
    try {
      await Deno.lstat(location.path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      console.error(
        `audit: warning: no ledger at ${location.path}: records cut off the end of the log ` +
          "cannot be noticed",
      );
      return undefined;
    }
  }
  const store = await openLedger(location);
  try {
    return await store.auditHead(serverId);
  } finally {
    await store.close();
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}
