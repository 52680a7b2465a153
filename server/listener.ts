/**
 * The bank's TCP front door: accepts ATM connections, runs the handshake under a deadline, and
 * gives each authenticated channel its own session task. A slow, silent or hostile connection
 * only ever holds its own task; the accept loop never waits on any connection.
 *
 * @module
 */

import { acceptChannel, ProtocolError } from "../lib/mod.ts";
import type { AuditEvent } from "./audit/mod.ts";
import type { Bank } from "./bank.ts";
import { ACCEPT_ERROR_PAUSE_MS, FILE_DESCRIPTORS_RESERVED } from "./constants.ts";
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

/** Out of file descriptors, for the process (EMFILE) or the whole system (ENFILE). */
function isOutOfDescriptors(error: unknown): boolean {
  return error instanceof Error && /\(os error (23|24)\)/.test(error.message);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
  #connectionsMax: number;
  #acceptLoop: Promise<void>;
  #refusedSinceLog = 0;
  #acceptFailuresSinceLog = 0;

  /**
   * Starts listening and accepting.
   *
   * @param options Address, bank and limits.
   * @throws {Deno.errors.AddrInUse} When the port is taken.
   */
  constructor(options: ListenerOptions) {
    this.#options = options;
    this.#connectionsMax = options.limits.connectionsMax;
    this.#listener = Deno.listen({ hostname: options.hostname, port: options.port });
    this.#acceptLoop = this.#accept();
  }

  /** The address actually bound (useful with port 0). */
  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  /** The connection limit in force: `connectionsMax`, or lower once file descriptors ran out. */
  get connectionsMax(): number {
    return this.#connectionsMax;
  }

  /** Open connections, including those still in the handshake. */
  get connections(): number {
    return this.#connections.size;
  }

  async #accept(): Promise<void> {
    const { logger } = this.#options;
    while (true) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (error instanceof Deno.errors.BadResource) return; // close() closed the listener
        if (isOutOfDescriptors(error)) this.#lowerConnectionsMax();
        // Nothing else to do but wait for connections to close; new ones wait in the kernel's
        // backlog meanwhile. The bank must not die of it.
        if (this.#acceptFailuresSinceLog++ === 0) {
          logger.warn("listener", "accept_failed", {
            error: error instanceof Error ? error.message : String(error),
          });
        }
        await sleep(ACCEPT_ERROR_PAUSE_MS);
        continue;
      }
      this.#acceptFailuresSinceLog = 0;
      if (this.#connections.size >= this.#connectionsMax) {
        conn.close();
        // One line per burst, not per refused connection, so a flood cannot flood the log.
        if (this.#refusedSinceLog++ === 0) {
          logger.warn("listener", "connection_refused", {
            reason: "connections_max",
            max: this.#connectionsMax,
          });
        }
        continue;
      }
      this.#refusedSinceLog = 0;
      this.#connections.add(conn);
      // A connection's failure is that connection's: it never becomes an unhandled rejection.
      const task = this.#serve(conn).catch((error) => {
        logger.warn("listener", "connection_error", {
          error: error instanceof Error ? error.message : String(error),
        });
      }).finally(() => {
        this.#connections.delete(conn);
        this.#tasks.delete(task);
      });
      this.#tasks.add(task);
    }
  }

  /**
   * The open-files limit (ulimit -n) is lower than `connectionsMax`: from now on keep
   * {@link FILE_DESCRIPTORS_RESERVED} descriptors free of connections, for the ledger and the
   * audit log, which must never fail for want of one.
   */
  #lowerConnectionsMax(): void {
    const lowered = Math.max(1, this.#connections.size - FILE_DESCRIPTORS_RESERVED);
    if (lowered >= this.#connectionsMax) return;
    this.#connectionsMax = lowered;
    this.#options.logger.warn("listener", "connections_max_lowered", {
      max: lowered,
      reason: "out_of_file_descriptors",
      action: "raise the open-files limit (ulimit -n) to allow more connections",
    });
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
      this.#record({ type: "handshake_failed", remote, reason });
      try {
        conn.close();
      } catch { /* already closed by the channel */ }
      return;
    }
    const fields = { atm: channel.atmId, session: channel.sessionId, remote };
    logger.info("listener", "session_opened", fields);
    const audited = this.#record({
      type: "connection_opened",
      atmId: channel.atmId,
      session: channel.sessionId,
      remote,
    });
    if (!audited) {
      // No session runs without its audit record.
      await channel.close().catch(() => {});
      return;
    }
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
    this.#record({
      type: "connection_closed",
      atmId: channel.atmId,
      session: channel.sessionId,
      reason,
    });
  }

  /**
   * Records a connection event in the audit log. The log refuses events once it could not write
   * (a full disk): that must end this connection, never the bank.
   *
   * @returns False when the audit log refused the event.
   */
  #record(event: AuditEvent): boolean {
    try {
      this.#options.bank.record(event);
      return true;
    } catch (error) {
      this.#options.logger.warn("listener", "audit_failed", {
        event: event.type,
        error: error instanceof Error ? error.message : String(error),
      });
      return false;
    }
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
