/**
 * `bank serve`: runs the bank until SIGINT or SIGTERM, then shuts down cleanly (stop accepting,
 * close sessions, flush the audit log).
 *
 * @module
 */

import { stderrLogger } from "../logger.ts";
import { startBank } from "../serve.ts";
import { setUpDemo } from "./demo_setup.ts";

/** Flags of `bank serve`. */
export interface ServeFlags {
  data: string;
  host: string;
  port: number;
  demo?: boolean;
  serverId: string;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
  connectionsMax: number;
  frameBytesMax: number;
  lockoutMinutes: number;
}

/**
 * Serves until a stop signal arrives.
 *
 * @param flags The command's flags.
 */
export async function runServe(flags: ServeFlags): Promise<void> {
  const logger = stderrLogger();
  const demo = flags.demo ? await setUpDemo(flags.data, flags.port) : null;
  const running = await startBank({
    dataDir: flags.data,
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
  });
  const addr = running.listener.addr;
  logger.info("bank", "listening", { address: `${addr.hostname}:${addr.port}`, data: flags.data });
  if (running.offlineKeyPath) {
    logger.warn("audit", "offline_key_created", {
      path: running.offlineKeyPath,
      action: "move it off this server and keep it safe",
    });
  }
  if (demo) demo.print(addr.port);

  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await stopped.promise;
  logger.info("bank", "stopping", {});
  await running.close();
  logger.info("bank", "stopped", {});
}
