/**
 * `bank migrate --db URL`: creates the ledger schema in an empty PostgreSQL database, or
 * upgrades an older one, before any bank server uses it. Bank servers never change a shared
 * schema themselves: they refuse to start on one they do not know.
 *
 * @module
 */

import { describeLedger, ledgerLocation } from "../ledger/open_ledger.ts";
import { migratePostgres } from "../ledger/postgres_schema.ts";
import { CliError, EXIT } from "./cli_error.ts";

/** Flags of `bank migrate`. */
export interface MigrateFlags {
  /** The database's `postgres://` URL. */
  db?: string;
}

/**
 * Creates or upgrades the schema and says what it did.
 *
 * @param flags The command's flags.
 * @throws {CliError} Without --db (usage), or when the database cannot be migrated.
 */
export async function runMigrate(flags: MigrateFlags): Promise<void> {
  if (flags.db === undefined) {
    throw new CliError(
      "give --db postgres://… (a SQLite ledger is created and upgraded by every bank command)",
      EXIT.usage,
    );
  }
  const location = ledgerLocation(flags.db, "");
  const name = describeLedger(location);
  const result = await migratePostgres(flags.db);
  if (result.created) {
    console.log(`Created the ledger schema (version ${result.version}) in ${name}.`);
  } else if (result.fromVersion < result.version) {
    console.log(
      `Upgraded the ledger schema in ${name} from version ${result.fromVersion} to ` +
        `${result.version}.`,
    );
  } else {
    console.log(`The ledger schema in ${name} is current (version ${result.version}).`);
  }
}
