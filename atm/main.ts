/**
 * Entry point of the `atm` command: `deno run -P=atm atm/main.ts --help`.
 *
 * @module
 */

import process from "node:process";
import { readCredential } from "../lib/mod.ts";
import { BankClient, type BankClientEvent } from "./bank_client.ts";
import { clackPrompter } from "./clack_prompter.ts";
import { type AtmOptions, parseInvocation } from "./cli.ts";
import { BANK_SERVER_DEFAULT, EXIT_OK } from "./constants.ts";
import { UsageError } from "./errors.ts";
import { exitCodeFor } from "./format.ts";
import { checkPin } from "./input.ts";
import { linePrompter, openLineSource } from "./line_prompter.ts";
import { runMenu } from "./menu.ts";
import type { Prompter } from "./prompter.ts";
import { reportFailure, runScript } from "./script.ts";
import { type AtmWebServerOptions, startAtmWeb } from "./web/web_server.ts";

const encoder = new TextEncoder();

function writeAll(stream: { writeSync(bytes: Uint8Array): number }, text: string): void {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(stream.writeSync(bytes));
}

const printOut = (line: string) => writeAll(Deno.stdout, `${line}\n`);
const printErr = (line: string) => writeAll(Deno.stderr, `${line}\n`);

/** Reads the PIN for a scripted run: masked on a terminal, else the first line of stdin. */
async function readScriptPin(options: AtmOptions): Promise<string> {
  if (Deno.stdin.isTerminal()) {
    const pin = await clackPrompter({ output: process.stderr }).secret({ message: "PIN" });
    if (pin === null) throw new UsageError("bad_input", "No PIN given");
    return checkPin(pin);
  }
  if (!options.pinStdin) {
    throw new UsageError(
      "bad_arguments",
      "stdin is not a terminal: pass --pin-stdin and write the PIN on the first line of stdin",
    );
  }
  const source = openLineSource(process.stdin);
  try {
    const pin = await source.next();
    if (pin === null) throw new UsageError("bad_input", "--pin-stdin: stdin ended before a PIN");
    return checkPin(pin);
  } finally {
    source.close();
  }
}

function showEvent(prompter: Prompter, event: BankClientEvent): void {
  if (event.type === "connection_lost") {
    prompter.warn(
      `Connection to the bank (${event.server}) lost: ${event.reason}. Reconnecting...`,
    );
  } else if (event.type === "connect_failed") {
    prompter.warn(`Bank server ${event.server} did not answer: ${event.reason}.`);
  }
}

/** Reports connection trouble of the ATM screen on stderr, as the menu does on the terminal. */
function logEvent(event: BankClientEvent): void {
  if (event.type === "connection_lost") {
    printErr(`atm: connection to the bank (${event.server}) lost: ${event.reason}; reconnecting`);
  } else if (event.type === "connect_failed") {
    printErr(`atm: bank server ${event.server} did not answer: ${event.reason}`);
  }
}

/** Serves the ATM screen until SIGINT or SIGTERM. */
async function serveScreen(identity: AtmWebServerOptions["identity"], options: AtmOptions) {
  const screen = await startAtmWeb({ identity, port: options.webPort, presetUser: options.user });
  printOut(`ATM screen: ${screen.url}`);
  printOut("Open it in a browser on this machine. Stop with Ctrl-C.");
  const stopped = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGINT", stopped.resolve);
  Deno.addSignalListener("SIGTERM", stopped.resolve);
  await stopped.promise;
  Deno.removeSignalListener("SIGINT", stopped.resolve);
  Deno.removeSignalListener("SIGTERM", stopped.resolve);
  await screen.close();
}

/**
 * Runs the `atm` command.
 *
 * @param args The command-line arguments after the program name.
 * @returns The exit status (see `atm --help`).
 */
export async function main(args: readonly string[]): Promise<number> {
  const invocation = parseInvocation(args, {
    writeOut: (text) => writeAll(Deno.stdout, text),
    writeErr: (text) => writeAll(Deno.stderr, text),
  });
  if (invocation.kind === "exit") return invocation.status;
  const { options } = invocation;
  const output = { json: options.json, stdout: printOut, stderr: printErr };
  try {
    const credential = await readCredential(options.credential);
    const servers = options.server !== undefined
      ? [options.server]
      : credential.servers.length > 0
      ? credential.servers
      : [BANK_SERVER_DEFAULT];
    const identity = { atmId: credential.atmId, psk: credential.psk, servers };
    if (invocation.kind === "web") {
      await serveScreen({ ...identity, onEvent: (event) => logEvent(event) }, options);
      credential.psk.fill(0);
      return EXIT_OK;
    }
    if (invocation.kind === "script") {
      const pin = await readScriptPin(options);
      const client = new BankClient(identity);
      credential.psk.fill(0);
      const user = options.user!;
      return await runScript({ ...output, client, user, pin, action: invocation.action });
    }
    const prompter = Deno.stdin.isTerminal()
      ? clackPrompter()
      : linePrompter({ source: openLineSource(process.stdin), write: printOut });
    const client = new BankClient({ ...identity, onEvent: (event) => showEvent(prompter, event) });
    credential.psk.fill(0);
    return await runMenu({ client, prompter, user: options.user });
  } catch (error) {
    reportFailure(error, output);
    return exitCodeFor(error);
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
