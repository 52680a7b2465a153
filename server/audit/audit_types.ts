/**
 * Shapes shared by the writer and the readers of the audit log.
 *
 * @module
 */

/**
 * The newest durable record of a server's chain. The bank stores it in the ledger database with
 * each batch, so a log cut short at the end no longer reaches it.
 */
export interface ChainHead {
  serverId: string;
  /** Sequence number of the newest durable record; 0 for an empty log. */
  seq: number;
  /** That record's MAC in base64url as stored in the log (32 zero bytes for an empty log). */
  mac: string;
}

/** One security-relevant event, as the bank describes it; never a PIN or a key. */
export interface AuditEvent {
  type: string;
  [field: string]: unknown;
}

/** An event as read back: the writer stamped `seq`, `at` and `serverId`. */
export type StampedEvent = AuditEvent & { seq: number; at: string; serverId: string };
