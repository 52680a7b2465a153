/**
 * `bank serve`: runs the bank until SIGINT or SIGTERM, then shuts down cleanly (stop accepting,
 * close sessions, flush the audit log).
 *
 * @module
 */

import type { RunningConsole } from "../console/console_server.ts";
import { type Logger, stderrLogger } from "../logger.ts";
import { dataDirPaths } from "../data_dir.ts";
import { describeLedger, ledgerLocation } from "../ledger/open_ledger.ts";
import { startBank } from "../serve.ts";
import { setUpDemo } from "./demo_setup.ts";

/** Flags of `bank serve`. */
export interface ServeFlags {
  data: string;
  /** A `postgres://` URL of a ledger shared with other servers; absent: SQLite in `data`. */
  db?: string;
  host: string;
  port: number;
  demo?: boolean;
  serverId: string;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
  connectionsMax: number;
  frameBytesMax: number;
  lockoutMinutes: number;
  /** Port of the operator console; 0 turns it off. */
  consolePort: number;
  /** Address the operator console listens on. */
  consoleHost: string;
}

/**
 * Serves until a stop signal arrives.
 *
 * @param flags The command's flags.
 */
export async function runServe(flags: ServeFlags): Promise<void> {
  const logger = stderrLogger();
  // listen for the stop signal before announcing anything: a supervisor (or a test) that stops
  // the bank as soon as it says "listening" must get a clean shutdown, not the default kill
  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  const demo = flags.demo ? await setUpDemo(flags.data, flags.port, flags.db) : null;
  const running = await startBank({
    dataDir: flags.data,
    db: flags.db,
    hostname: flags.host,
    port: flags.port,
    serverId: flags.serverId,
    lockoutMs: flags.lockoutMinutes * 60_000,
    limits: {
      handshakeTimeoutMs: flags.handshakeTimeoutMs,
      idleTimeoutMs: flags.idleTimeoutMs,
      connectionsMax: flags.connectionsMax,
      frameBytesMax: flags.frameBytesMax,
    },
    logger,
    console: flags.consolePort === 0
      ? null
      : { hostname: flags.consoleHost, port: flags.consolePort },
  });
  const addr = running.listener.addr;
  logger.info("bank", "listening", {
    address: `${addr.hostname}:${addr.port}`,
    data: flags.data,
    ledger: describeLedger(ledgerLocation(flags.db, dataDirPaths(flags.data).ledger)),
    server: flags.serverId,
  });
  if (running.offlineKeyPath) {
    logger.warn("audit", "offline_key_created", {
      path: running.offlineKeyPath,
      action: "move it off this server and keep it safe",
    });
  }
  if (running.console) showConsole(running.console, logger);
  if (demo) demo.print(addr.port);

  await stopped.promise;
  logger.info("bank", "stopping", {});
  await running.close();
  logger.info("bank", "stopped", {});
}

/**
 * Says where the console is. A one-time password created by this start is printed here, once, on
 * stdout, and nowhere else: it never goes to the log or the audit log.
 */
function showConsole(operatorConsole: RunningConsole, logger: Logger): void {
  logger.info("console", "ready", { url: operatorConsole.url });
  const oneTimePassword = operatorConsole.takeOneTimePassword();
  if (oneTimePassword === null) return;
  console.log(
    [
      "",
      `Operator console: ${operatorConsole.url}`,
      `One-time operator password: ${oneTimePassword}`,
      "It is shown only this once. Set your own with `bank operator passwd`.",
      "",
    ].join("\n"),
  );
}
