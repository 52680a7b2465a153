/**
 * The `atm` command line, parsed with commander into an {@link Invocation}. Parsing does no I/O
 * besides printing help, the version or a one-line usage error.
 *
 * @module
 */

import { Command, CommanderError } from "commander";
import type { BankAction } from "./bank_client.ts";
import {
  ATM_VERSION,
  EXIT_CREDENTIAL,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_REFUSED,
  EXIT_UNREACHABLE,
  EXIT_USAGE,
} from "./constants.ts";
import { UsageError } from "./errors.ts";
import { describeError } from "./format.ts";
import { normalizeAmount, normalizeUser } from "./input.ts";
import { parseServerAddress } from "./server_address.ts";
import { ATM_WEB_PORT_DEFAULT } from "./web/constants.ts";

/** The global options of `atm`. */
export interface AtmOptions {
  /** Customer name; asked for in the menu when missing. */
  user?: string;
  /** Path of the ATM credential file. */
  credential: string;
  /** Bank server `host:port`, overriding the credential's list. */
  server?: string;
  /** Read the PIN from the first line of stdin. */
  pinStdin: boolean;
  /** Print one JSON object as the result. */
  json: boolean;
  /** Port of the ATM screen on 127.0.0.1 (`--web`); 0 picks a free one. */
  webPort: number;
}

/** What the command line asks for. */
export type Invocation =
  /** Help, version or a usage error was printed; exit with `status`. */
  | { kind: "exit"; status: number }
  /** Run the interactive menu. */
  | { kind: "menu"; options: AtmOptions }
  /** Carry out one action and exit. */
  | { kind: "script"; options: AtmOptions; action: BankAction }
  /** Serve the graphical ATM screen on 127.0.0.1 until stopped. */
  | { kind: "web"; options: AtmOptions };

/** Where the parser prints help, version and errors. */
export interface CliOutput {
  /** Help and version text. */
  writeOut(text: string): void;
  /** Error lines. */
  writeErr(text: string): void;
}

const EXIT_STATUS_HELP = `
Exit status:
  ${EXIT_OK}  success
  ${EXIT_FAILURE}  unexpected failure
  ${EXIT_USAGE}  usage error: bad option, command, argument or amount (nothing was sent)
  ${EXIT_REFUSED}  the bank refused: failed login, insufficient funds, unknown recipient, ...
  ${EXIT_UNREACHABLE}  the bank cannot be reached
  ${EXIT_CREDENTIAL}  the ATM credential file is missing, unreadable or unsafe

Without a command, an interactive menu starts. When stdin is not a terminal, answers are read
one per line (user name, PIN, then menu choices by number).`;

function buildProgram(output: CliOutput, picked: { action: BankAction | null }): Command {
  const program = new Command("atm")
    .description("Automated teller machine: talks to the bank over the secure channel.")
    .version(ATM_VERSION, "-V, --version", "print the version")
    .helpOption("-h, --help", "show this help")
    .option("--user <name>", "customer name (asked for in the menu when missing)")
    .option("--credential <file>", "ATM credential file (required)")
    .option("--server <host:port>", "bank server, instead of the credential's server list")
    .option("--pin-stdin", "read the PIN from the first line of stdin (for scripts)")
    .option("--json", "print the result as one JSON object on stdout")
    .option("--web", "serve the ATM screen (PIN pad) in a browser on 127.0.0.1")
    .option(
      "--web-port <port>",
      `port of the ATM screen (0 picks a free one; default ${ATM_WEB_PORT_DEFAULT})`,
    )
    .addHelpText("after", EXIT_STATUS_HELP)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => output.writeOut(text),
      writeErr: (text) => output.writeErr(text),
      outputError: (text, write) => write(`atm: ${text.replace(/^error: /, "")}`),
    })
    .allowExcessArguments(true)
    .action(() => {
      if (program.args.length > 0) {
        program.error(`unknown command '${program.args[0]}' (see atm --help)`, {
          code: "commander.unknownCommand",
        });
      }
    });
  program.command("balance").description("show the balance")
    .action(() => {
      picked.action = { op: "balance" };
    });
  program.command("deposit").description("deposit an amount, e.g. 25.50")
    .argument("<amount>").action((amount: string) => {
      picked.action = { op: "deposit", amount: normalizeAmount(amount) };
    });
  program.command("withdraw").description("withdraw an amount")
    .argument("<amount>").action((amount: string) => {
      picked.action = { op: "withdraw", amount: normalizeAmount(amount) };
    });
  program.command("transfer").description("transfer an amount to another customer")
    .argument("<to>", "recipient's user name").argument("<amount>")
    .action((to: string, amount: string) => {
      picked.action = {
        op: "transfer",
        to: normalizeUser(to, "Recipient"),
        amount: normalizeAmount(amount),
      };
    });
  program.command("history").description("show the mini-statement (last transactions)")
    .action(() => {
      picked.action = { op: "history" };
    });
  for (const command of program.commands) {
    command.exitOverride().configureOutput(program.configureOutput());
  }
  return program;
}

/**
 * Parses the command line.
 *
 * @param args The arguments after the program name (`Deno.args`).
 * @param output Where help and errors go.
 * @returns What to do; `kind: "exit"` when help, the version or an error was printed.
 */
export function parseInvocation(args: readonly string[], output: CliOutput): Invocation {
  const picked: { action: BankAction | null } = { action: null };
  const program = buildProgram(output, picked);
  try {
    program.parse([...args], { from: "user" });
    const options = checkOptions(program.opts());
    if (program.opts().web === true) {
      if (picked.action !== null) {
        throw new UsageError("bad_arguments", "--web takes no command: the screen offers them all");
      }
      return { kind: "web", options };
    }
    if (program.opts().webPort !== undefined) {
      throw new UsageError("bad_arguments", "--web-port needs --web");
    }
    if (picked.action === null) return { kind: "menu", options };
    if (options.user === undefined) {
      throw new UsageError("bad_arguments", "--user is required with a command");
    }
    return { kind: "script", options, action: picked.action };
  } catch (error) {
    if (error instanceof CommanderError) {
      const printedOnly = error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" || error.code === "commander.help";
      return { kind: "exit", status: printedOnly ? EXIT_OK : EXIT_USAGE };
    }
    output.writeErr(`atm: ${describeError(error)}\n`);
    return { kind: "exit", status: EXIT_USAGE };
  }
}

function checkOptions(raw: Record<string, unknown>): AtmOptions {
  const credential = raw.credential as string | undefined;
  if (credential === undefined) {
    throw new UsageError("bad_arguments", "--credential <file> is required (see atm --help)");
  }
  const server = raw.server as string | undefined;
  if (server !== undefined) parseServerAddress(server);
  const user = raw.user === undefined ? undefined : normalizeUser(raw.user as string);
  return {
    user,
    credential,
    server,
    pinStdin: raw.pinStdin === true,
    json: raw.json === true,
    webPort: raw.webPort === undefined ? ATM_WEB_PORT_DEFAULT : parseWebPort(raw.webPort as string),
  };
}

function parseWebPort(text: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535) {
    throw new UsageError("bad_arguments", `--web-port must be a port from 0 to 65535: got ${text}`);
  }
  return Number(text);
}
