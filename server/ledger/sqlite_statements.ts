/**
 * Every SQL statement the SQLite ledger runs, prepared once when the store opens.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";

const SQL = {
  accountById: "SELECT id, name, kind, balance_cents FROM accounts WHERE id = ?",
  customerAccountByName: `SELECT a.id, a.balance_cents FROM accounts a
    JOIN customers c ON c.account_id = a.id WHERE a.name = ?`,
  houseAccountId: "SELECT id FROM accounts WHERE name = ? AND kind = 'house'",
  setBalance: "UPDATE accounts SET balance_cents = ? WHERE id = ? AND kind = 'customer'",
  insertEntry: `INSERT INTO entries
    (request_id, kind, atm_id, customer_id, counterparty_id, amount_cents, at, server_id)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  insertPosting: `INSERT INTO postings (entry_id, account_id, amount_cents, balance_after_cents)
    VALUES (?, ?, ?, ?)`,
  findRequest: `SELECT customer_id, atm_id, kind, amount_cents, to_name, entry_id, balance_cents,
    reason FROM requests WHERE request_id = ?`,
  insertRequest: `INSERT INTO requests
    (request_id, customer_id, atm_id, kind, amount_cents, to_name, entry_id, balance_cents, reason)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  insertAccount: "INSERT INTO accounts (name, kind, balance_cents) VALUES (?, 'customer', 0)",
  insertCustomer:
    `INSERT INTO customers (account_id, pin_salt, pin_hash, pin_iterations, created_at)
    VALUES (?, ?, ?, ?, ?)`,
  customerByName: `SELECT a.id, a.name, c.pin_salt, c.pin_hash, c.pin_iterations, c.failed_logins,
    c.locked_until FROM accounts a JOIN customers c ON c.account_id = a.id WHERE a.name = ?`,
  recordFailedLogin: `UPDATE customers SET
      failed_logins = CASE WHEN locked_until IS NOT NULL AND locked_until <= $now THEN 1
        ELSE failed_logins + 1 END,
      locked_until = CASE
        WHEN locked_until IS NOT NULL AND locked_until > $now THEN locked_until
        WHEN (CASE WHEN locked_until IS NOT NULL AND locked_until <= $now THEN 1
          ELSE failed_logins + 1 END) >= $lockAfter THEN $now + $lockMs
        ELSE NULL END
    WHERE account_id = $id RETURNING failed_logins, locked_until`,
  clearFailedLogins:
    "UPDATE customers SET failed_logins = 0, locked_until = NULL WHERE account_id = ?",
  insertAtm: "INSERT INTO atms (id, wrapped_key, created_at) VALUES (?, ?, ?)",
  findAtm: "SELECT id, wrapped_key, revoked, created_at FROM atms WHERE id = ?",
  revokeAtm: "UPDATE atms SET revoked = 1 WHERE id = ?",
  auditHead: "SELECT server_id, seq, mac FROM audit_heads WHERE server_id = ?",
  setAuditHead: `INSERT INTO audit_heads (server_id, seq, mac) VALUES (?, ?, ?)
    ON CONFLICT (server_id) DO UPDATE SET seq = excluded.seq, mac = excluded.mac
    WHERE excluded.seq > audit_heads.seq`,
  listCustomers: `SELECT a.name, a.balance_cents, c.locked_until FROM accounts a
    JOIN customers c ON c.account_id = a.id ORDER BY a.name`,
  totals: `SELECT COUNT(*) AS customers, COALESCE(SUM(balance_cents), 0) AS held_cents
    FROM accounts WHERE kind = 'customer'`,
  entriesSince: "SELECT COUNT(*) AS n FROM entries WHERE at >= ?",
  history: `SELECT e.id, e.at, e.kind, e.customer_id, p.amount_cents, p.balance_after_cents,
      owner.name AS owner_name, other.name AS other_name
    FROM postings p JOIN entries e ON e.id = p.entry_id
    JOIN accounts owner ON owner.id = e.customer_id
    LEFT JOIN accounts other ON other.id = e.counterparty_id
    WHERE p.account_id = ? ORDER BY p.entry_id DESC LIMIT ?`,
  journalAfter: `SELECT e.id, e.request_id, e.at, e.kind, e.atm_id, e.amount_cents, e.server_id,
      owner.name AS owner_name, other.name AS other_name, p.balance_after_cents
    FROM entries e JOIN accounts owner ON owner.id = e.customer_id
    LEFT JOIN accounts other ON other.id = e.counterparty_id
    JOIN postings p ON p.entry_id = e.id AND p.account_id = e.customer_id
    WHERE e.id > $after AND ($server IS NULL OR e.server_id = $server OR e.server_id IS NULL)
    ORDER BY e.id LIMIT $limit`,
  bankKeyCheck: "SELECT key_check FROM bank_key",
  insertBankKeyCheck: "INSERT INTO bank_key (key_check) VALUES (?)",
} as const;

/** The prepared statements, by name. */
export type Statements = { [K in keyof typeof SQL]: StatementSync };

/**
 * Prepares every statement on an open ledger.
 *
 * @param db The database, schema already checked.
 * @returns The statements.
 */
export function prepareStatements(db: DatabaseSync): Statements {
  const entries = Object.entries(SQL).map(([name, text]) => [name, db.prepare(text)]);
  return Object.fromEntries(entries) as Statements;
}
