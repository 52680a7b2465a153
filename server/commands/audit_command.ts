/**
 * `bank audit --decrypt | --verify`: reads the audit log with the chain head the ledger holds,
 * so a log cut short is detected.
 *
 * @module
 */

import { runAuditCommand } from "../audit/mod.ts";
import { dataDirPaths } from "../data_dir.ts";
import { openSqliteStore } from "../ledger/sqlite_store.ts";
import { CliError, EXIT } from "./cli_error.ts";

/** Flags of `bank audit`. */
export interface AuditFlags {
  data: string;
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
 * @param flags The command's flags.
 * @throws {CliError} On a bad flag combination or a failed check.
 */
export async function runAudit(flags: AuditFlags): Promise<void> {
  if (flags.decrypt === flags.verify) {
    throw new CliError("give exactly one of --decrypt or --verify", EXIT.usage);
  }
  if (flags.since !== undefined && Number.isNaN(Date.parse(flags.since))) {
    throw new CliError(`--since: not an ISO time: ${JSON.stringify(flags.since)}`, EXIT.usage);
  }
  const paths = dataDirPaths(flags.data);
  const store = await openSqliteStore(paths.ledger);
  let ledgerHead;
  try {
    ledgerHead = await store.auditHead(flags.serverId);
  } finally {
    await store.close();
  }
  const code = await runAuditCommand(
    { ...flags, dataDir: flags.data, ledgerHead },
    {
      stdout: Deno.stdout.writable,
      stderr: Deno.stderr.writable,
      stderrIsTerminal: Deno.stderr.isTerminal(),
    },
  );
  if (code !== 0) throw new CliError("the audit log did not verify (see above)", code);
}
