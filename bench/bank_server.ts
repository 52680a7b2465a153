/**
 * The bank under test: the real `bank serve` command as a child process, exactly as an operator
 * starts it (`deno run -P=bank server/main.ts serve`), on loopback with port 0 and without the
 * operator console.
 *
 * @module
 */

import { type Child, readRssBytes, startChild } from "./child.ts";
import { bankServeArgs } from "../server/testing/bank_process.ts";

/** A running bank process. */
export interface BankServer {
  /** The TCP port ATMs connect to on 127.0.0.1. */
  readonly port: number;
  /** The process. */
  readonly child: Child;
  /** Resident memory of the bank process in bytes. */
  rssBytes(): Promise<number>;
  /** Warning lines near the end of its log, for the report. */
  warnings(): string[];
  /** SIGTERM, then waits for a clean exit; returns the exit code. */
  stop(): Promise<number>;
}

/**
 * Starts `bank serve` on a data directory (provisioned beforehand) and waits until it listens.
 *
 * @param dataDir The data directory.
 * @returns The running bank.
 * @throws {Error} When it exits or stays silent; the message holds its log.
 */
export async function startBankServer(dataDir: string): Promise<BankServer> {
  const child = await startChild({
    args: bankServeArgs(dataDir),
    readyPattern: /listening address=\S*:(\d+)/,
  });
  return {
    port: Number(child.ready[1]),
    child,
    rssBytes: () => readRssBytes(child.pid),
    warnings: () => child.tail().split("\n").filter((line) => line.includes(" WARN ")),
    stop: () => child.stop(),
  };
}
