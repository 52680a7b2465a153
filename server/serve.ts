/**
 * Starts a whole bank server from its options: data directory, ledger, audit log, listener. Used
 * by `bank serve` and by tests that want a real bank in-process.
 *
 * @module
 */

import { AuditLog, initAuditKeys } from "./audit/mod.ts";
import { Bank } from "./bank.ts";
import { checkBankKey, forgetNewBankKey } from "./bank_key_check.ts";
import { describeLedger } from "./ledger/open_ledger.ts";
import { lockServerId, type ServerIdLock } from "./ledger/postgres_server_lock.ts";
import { BankListener, type ConnectionLimits } from "./listener.ts";
import type { Logger } from "./logger.ts";
import type { LedgerStore } from "./ledger/store.ts";
import { SessionRegistry } from "./session_registry.ts";
import { recoverAuditFromJournal } from "./audit_recovery.ts";
import { type RunningConsole, startConsole } from "./console/console_server.ts";
import { openBankFiles } from "./commands/open_bank_files.ts";

/** Everything `bank serve` can be told. */
export interface ServeOptions {
  dataDir: string;
  /**
   * A `postgres://` URL: keep the ledger in that database, shared with other bank servers.
   * Absent: the SQLite file in the data directory.
   */
  db?: string;
  hostname: string;
  port: number;
  serverId: string;
  lockoutMs: number;
  limits: ConnectionLimits;
  logger: Logger;
  /** Where the operator console listens; absent or null: no console. */
  console?: { hostname: string; port: number } | null;
}

/** A running bank. */
export interface RunningBank {
  bank: Bank;
  listener: BankListener;
  registry: SessionRegistry;
  store: LedgerStore;
  /** Path of the offline audit verification key while it is still in the data directory. */
  offlineKeyPath: string | null;
  /** The operator console, when one was asked for. */
  console: RunningConsole | null;
  /** Stops accepting, closes sessions, flushes the audit log and closes the ledger. */
  close(): Promise<void>;
}

/**
 * Opens the data directory (creating it on first start), reconciles the audit log with the
 * ledger, and starts listening.
 *
 * @param options Where and how to serve.
 * @returns The running bank.
 * @throws {LedgerError | DataDirError | AuditError | SecretFileError | BankKeyError} When a part
 * cannot be opened safely (an unknown ledger schema, a bank key that is not the ledger's); the
 * bank then does not start at all.
 */
export async function startBank(options: ServeOptions): Promise<RunningBank> {
  const { dataDir, store, location } = await openBankFiles(options.dataDir, options.db);
  let audit: AuditLog;
  let keys: Awaited<ReturnType<typeof initAuditKeys>>;
  // on a shared ledger no other running server may use this server id
  let serverLock: ServerIdLock | null = null;
  if (location.kind === "postgres") {
    try {
      serverLock = await lockServerId(location.url, options.serverId);
    } catch (error) {
      await store.close();
      await forgetNewBankKey(dataDir); // not yet recorded in the ledger
      throw error;
    }
  }
  try {
    await checkBankKey(store, dataDir, describeLedger(location));
    keys = await initAuditKeys({ dataDir: options.dataDir });
    const ledgerHead = await store.auditHead(options.serverId);
    audit = await AuditLog.open({
      dataDir: options.dataDir,
      serverId: options.serverId,
      ledgerHead,
      onAutoFlush: (head) => store.setAuditHead(head),
    });
  } catch (error) {
    await store.close();
    await serverLock?.release();
    throw error;
  }
  const bank = new Bank({
    store,
    audit,
    secrets: dataDir.secrets,
    logger: options.logger,
    serverId: options.serverId,
    lockoutMs: options.lockoutMs,
    ledgerShared: location.kind === "postgres",
  });
  const committedBy = location.kind === "postgres" ? options.serverId : undefined;
  const recovered = await recoverAuditFromJournal(store, audit, committedBy);
  if (recovered.openings > 0) {
    options.logger.info("audit", "opening_balances_recorded", { records: recovered.openings });
  }
  if (recovered.transactions > 0) {
    // The bank stopped after a ledger commit and before the audit flush.
    options.logger.warn("audit", "recovered", { records: recovered.transactions });
  }
  if (audit.recovery.tornLineRepaired) options.logger.warn("audit", "torn_line_repaired", {});
  const registry = new SessionRegistry();
  const listener = new BankListener({
    hostname: options.hostname,
    port: options.port,
    bank,
    logger: options.logger,
    registry,
    limits: options.limits,
  });
  bank.record({
    type: "bank_start",
    serverId: options.serverId,
    address: `${listener.addr.hostname}:${listener.addr.port}`,
  });
  await bank.flushAudit();
  // after the listener: the audit log, its head recorded in the ledger, the ledger, the server id
  const closeStorage = async () => {
    await audit.close();
    await store.setAuditHead(audit.head());
    await store.close();
    await serverLock?.release();
  };
  let operatorConsole: RunningConsole | null = null;
  if (options.console) {
    try {
      operatorConsole = await startConsole({
        ...options.console,
        bank,
        registry,
        dataDir: options.dataDir,
        logger: options.logger,
      });
    } catch (error) {
      // The bank does not run without the console it was asked for.
      await listener.close();
      await closeStorage();
      throw error;
    }
  }
  const close = async () => {
    await operatorConsole?.close();
    await listener.close();
    bank.record({ type: "bank_stop", serverId: options.serverId });
    await closeStorage();
  };
  return {
    bank,
    listener,
    registry,
    store,
    offlineKeyPath: keys.offlineKeyPresent ? keys.offlineKeyPath : null,
    console: operatorConsole,
    close,
  };
}
