/**
 * The `bank` command: serve ATMs, and administer customers, ATMs and the audit log.
 *
 * Run it as `deno task bank <command>` (the permission set `bank` in deno.json) or as the
 * compiled `dist/bank`. Every command but `migrate` takes `--data DIR`; all but `audit`, which
 * only reads, initialise an empty directory.
 *
 * @module
 */

import { Command, CommanderError, InvalidArgumentError } from "commander";
import { runServe } from "./commands/serve_command.ts";
import { runCustomerAdd, runCustomerList } from "./commands/customer_command.ts";
import { runAtmAdd, runAtmRevoke } from "./commands/atm_command.ts";
import { runAudit } from "./commands/audit_command.ts";
import { runMigrate } from "./commands/migrate_command.ts";
import {
  BANK_FRAME_BYTES_MAX_DEFAULT,
  BANK_HOST_DEFAULT,
  BANK_PORT_DEFAULT,
  CONNECTIONS_MAX_DEFAULT,
  DATA_DIR_DEFAULT,
  HANDSHAKE_TIMEOUT_MS_DEFAULT,
  IDLE_TIMEOUT_MS_DEFAULT,
  LOCKOUT_MS_DEFAULT,
  LOGIN_FAILURES_MAX,
} from "./constants.ts";
import { CliError } from "./commands/cli_error.ts";
import { CONSOLE_HOST_DEFAULT, CONSOLE_PORT_DEFAULT } from "./console/constants.ts";
import { runOperatorPasswd } from "./console/operator_command.ts";

/** Version printed by `bank --version`. */
export const BANK_VERSION = "0.1.0";

function positiveInteger(value: string): number {
  if (!/^[0-9]+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError(
      `expected a positive whole number, got ${JSON.stringify(value)}`,
    );
  }
  return Number(value);
}

function port(value: string): number {
  if (!/^[0-9]+$/.test(value) || Number(value) > 65535) {
    throw new InvalidArgumentError(`expected a port from 0 to 65535, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function buildProgram(): Command {
  const program = new Command("bank")
    .description("A secure bank server for ATMs, with an encrypted, tamper-evident audit log.")
    .version(BANK_VERSION)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  const dataOption = ["--data <dir>", "data directory", DATA_DIR_DEFAULT] as const;
  const dbOption = [
    "--db <url>",
    "postgres:// URL of a ledger shared by several servers (default: SQLite in the data directory)",
  ] as const;

  program.command("serve", { isDefault: true })
    .description("serve ATMs (the default command)")
    .option(...dataOption)
    .option(...dbOption)
    .option("--host <address>", "address to listen on", BANK_HOST_DEFAULT)
    .option("--port <port>", "TCP port for ATMs (0 picks a free one)", port, BANK_PORT_DEFAULT)
    .option("--demo", "on an empty data directory, create demo customers and ATM credentials")
    .option("--server-id <id>", "name of this server in its audit records", "bank-1")
    .option(
      "--handshake-timeout-ms <ms>",
      "time allowed for a handshake",
      positiveInteger,
      HANDSHAKE_TIMEOUT_MS_DEFAULT,
    )
    .option(
      "--idle-timeout-ms <ms>",
      "close sessions idle this long",
      positiveInteger,
      IDLE_TIMEOUT_MS_DEFAULT,
    )
    .option(
      "--connections-max <n>",
      "open connections allowed at once",
      positiveInteger,
      CONNECTIONS_MAX_DEFAULT,
    )
    .option(
      "--frame-bytes-max <n>",
      "largest frame accepted from an ATM",
      positiveInteger,
      BANK_FRAME_BYTES_MAX_DEFAULT,
    )
    .option(
      "--lockout-minutes <n>",
      `how long ${LOGIN_FAILURES_MAX} wrong PINs lock an account`,
      positiveInteger,
      LOCKOUT_MS_DEFAULT / 60_000,
    )
    .option(
      "--console-port <port>",
      "port of the operator web console (0 turns it off)",
      port,
      CONSOLE_PORT_DEFAULT,
    )
    .option(
      "--console-host <address>",
      "address the console listens on; anything but loopback exposes it to the network",
      CONSOLE_HOST_DEFAULT,
    )
    .action(runServe);

  const customer = program.command("customer").description("manage customers");
  customer.command("add <name>")
    .description("add a customer; asks for the PIN without echo")
    .option(...dataOption)
    .option(...dbOption)
    .option("--deposit <amount>", "opening balance, e.g. 250.00")
    .option("--pin-stdin", "read the PIN from standard input (for scripts)")
    .action(runCustomerAdd);
  customer.command("list")
    .description("list customers and balances")
    .option(...dataOption)
    .option(...dbOption)
    .action(runCustomerList);

  const atm = program.command("atm").description("manage ATM credentials");
  atm.command("add <id>")
    .description("create an ATM key and write its credential file (owner-only)")
    .option(...dataOption)
    .option(...dbOption)
    .option("--out <file>", "credential file to write (default DIR/atms/ID.json)")
    .option("--server <host:port...>", "bank address(es) the ATM connects to", [
      `${BANK_HOST_DEFAULT}:${BANK_PORT_DEFAULT}`,
    ])
    .action(runAtmAdd);
  atm.command("revoke <id>")
    .description("revoke an ATM credential; the ATM can no longer connect")
    .option(...dataOption)
    .option(...dbOption)
    .action(runAtmRevoke);

  program.command("migrate")
    .description("create or upgrade the ledger schema in a PostgreSQL database")
    .option(...dbOption)
    .action(runMigrate);

  const operator = program.command("operator").description("manage the operator console");
  operator.command("passwd")
    .description("set the console password; asks twice without echo")
    .option(...dataOption)
    .option("--password-stdin", "read the password from the first line of standard input")
    .action(runOperatorPasswd);

  program.command("audit")
    .description("decrypt or verify the audit log")
    .option(
      "--data <dir>",
      `data directory (default ${DATA_DIR_DEFAULT}); repeat it with --verify to check several ` +
        "servers' logs together against the shared ledger",
      (dir: string, dirs: string[]) => [...dirs, dir],
      [] as string[],
    )
    .option(...dbOption)
    .option("--decrypt", "print the decrypted events as JSON Lines, checking every MAC")
    .option("--verify", "check every record and print a summary")
    .option("--since <time>", "only events at or after this ISO time")
    .option("--user <name>", "only events about this customer")
    .option("--pretty", "an aligned table instead of JSON Lines")
    .option("--offline-key <file>", "offline verification key: also check past epochs")
    .option(
      "--server-id <id>",
      "server whose chain head to check against (with several --data: read from each log)",
      "bank-1",
    )
    .action(runAudit);
  return program;
}

/**
 * Runs the command line and returns the exit code.
 *
 * @param args The arguments after the program name.
 * @returns 0 on success.
 */
export async function main(args: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(args, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === "commander.helpDisplayed" || error.code === "commander.version" ||
          error.code === "commander.help"
        ? 0
        : 2;
    }
    if (error instanceof CliError) {
      console.error(`bank: ${error.message}`);
      return error.exitCode;
    }
    console.error(`bank: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
