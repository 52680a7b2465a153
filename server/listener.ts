/**
 * The bank's TCP front door: accepts ATM connections, runs the handshake under a deadline, and
 * gives each authenticated channel its own session task. A slow, silent or hostile connection
 * only ever holds its own task; the accept loop never waits on any connection.
 *
 * @module
 */

import { acceptChannel, ProtocolError } from "../lib/mod.ts";
import type { Bank } from "./bank.ts";
import type { Logger } from "./logger.ts";
import { Session } from "./session.ts";
import type { SessionRegistry } from "./session_registry.ts";

/** Limits that protect the bank from its connections; each has a `bank serve` flag. */
export interface ConnectionLimits {
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
  connectionsMax: number;
  frameBytesMax: number;
}

/** What the listener needs. */
export interface ListenerOptions {
  hostname: string;
  port: number;
  bank: Bank;
  logger: Logger;
  registry: SessionRegistry;
  limits: ConnectionLimits;
}

function remoteOf(conn: Deno.Conn): string {
  const addr = conn.remoteAddr as Deno.NetAddr;
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

/** A running listener. */
export class BankListener {
  readonly #listener: Deno.TcpListener;
  readonly #options: ListenerOptions;
  readonly #connections = new Set<Deno.Conn>();
  readonly #tasks = new Set<Promise<void>>();
  #acceptLoop: Promise<void>;
  #refusedSinceLog = 0;

  /**
   * Starts listening and accepting.
   *
   * @param options Address, bank and limits.
   * @throws {Deno.errors.AddrInUse} When the port is taken.
   */
  constructor(options: ListenerOptions) {
    this.#options = options;
    this.#listener = Deno.listen({ hostname: options.hostname, port: options.port });
    this.#acceptLoop = this.#accept();
  }

  /** The address actually bound (useful with port 0). */
  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  /** Open connections, including those still in the handshake. */
  get connections(): number {
    return this.#connections.size;
  }

  async #accept(): Promise<void> {
    const { limits, logger } = this.#options;
    try {
      for await (const conn of this.#listener) {
        if (this.#connections.size >= limits.connectionsMax) {
          conn.close();
          // One line per burst, not per refused connection, so a flood cannot flood the log.
          if (this.#refusedSinceLog++ === 0) {
            logger.warn("listener", "connection_refused", {
              reason: "connections_max",
              max: limits.connectionsMax,
            });
          }
          continue;
        }
        this.#refusedSinceLog = 0;
        this.#connections.add(conn);
        const task = this.#serve(conn).finally(() => {
          this.#connections.delete(conn);
          this.#tasks.delete(task);
        });
        this.#tasks.add(task);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    const { bank, logger, limits, registry } = this.#options;
    const remote = remoteOf(conn);
    const opened = performance.now();
    let channel;
    try {
      channel = await acceptChannel(conn, {
        lookupPsk: (atmId) => bank.lookupPsk(atmId),
        timeoutMs: limits.handshakeTimeoutMs,
        frameBytesMax: limits.frameBytesMax,
      });
    } catch (error) {
      const reason = error instanceof ProtocolError ? error.code : "internal";
      logger.warn("listener", "handshake_failed", { remote, reason });
      bank.record({ type: "handshake_failed", remote, reason });
      try {
        conn.close();
      } catch { /* already closed by the channel */ }
      return;
    }
    const fields = { atm: channel.atmId, session: channel.sessionId, remote };
    logger.info("listener", "session_opened", fields);
    bank.record({
      type: "connection_opened",
      atmId: channel.atmId,
      session: channel.sessionId,
      remote,
    });
    let reason = "internal";
    try {
      reason = await new Session(channel, {
        bank,
        logger,
        registry,
        idleTimeoutMs: limits.idleTimeoutMs,
      })
        .run();
    } catch (error) {
      logger.warn("listener", "session_error", { ...fields, error: (error as Error).message });
    } finally {
      await channel.close().catch(() => {});
    }
    const seconds = ((performance.now() - opened) / 1000).toFixed(1);
    logger.info("listener", "session_closed", { ...fields, reason, seconds });
    bank.record({
      type: "connection_closed",
      atmId: channel.atmId,
      session: channel.sessionId,
      reason,
    });
  }

  /**
   * Stops accepting, closes every open connection and waits for their tasks to end.
   *
   * @returns Once everything is closed.
   */
  async close(): Promise<void> {
    this.#listener.close();
    await this.#acceptLoop;
    for (const conn of this.#connections) {
      try {
        conn.close();
      } catch { /* closed meanwhile */ }
    }
    await Promise.allSettled([...this.#tasks]);
  }
}
