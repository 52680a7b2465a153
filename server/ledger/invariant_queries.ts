/**
 * The queries behind checkInvariants(), written in the SQL that SQLite and PostgreSQL share, so
 * both stores prove the same properties. Each query returns one `problem` text per violation.
 *
 * @module
 */

import { BALANCE_CENTS_MAX } from "../../lib/amount.ts";
import { PROBLEMS_PER_CHECK_MAX } from "./rules.ts";

const LIMIT = `LIMIT ${PROBLEMS_PER_CHECK_MAX}`;

const POSTINGS_SUM = `COALESCE((SELECT SUM(p.amount_cents) FROM postings p
  WHERE p.account_id = a.id), 0)`;

/** Queries that each list violations of one invariant. */
export const INVARIANT_QUERIES: readonly string[] = [
  // A customer's stored balance is the sum of their postings.
  `SELECT 'account ' || a.name || ': balance ' || a.balance_cents || ' but postings sum to ' ||
     ${POSTINGS_SUM} AS problem
   FROM accounts a WHERE a.kind = 'customer' AND a.balance_cents <> ${POSTINGS_SUM}
   ORDER BY a.id ${LIMIT}`,

  // Every entry has at least two postings and they sum to zero.
  `SELECT 'entry ' || e.id || ': ' || COUNT(p.entry_id) || ' postings summing to ' ||
     COALESCE(SUM(p.amount_cents), 0) AS problem
   FROM entries e LEFT JOIN postings p ON p.entry_id = e.id
   GROUP BY e.id HAVING COUNT(p.entry_id) < 2 OR COALESCE(SUM(p.amount_cents), 0) <> 0
   ORDER BY e.id ${LIMIT}`,

  // No customer balance is negative or over the limit; house accounts keep no balance row.
  `SELECT 'account ' || a.name || ': stored balance ' || COALESCE(a.balance_cents, -1) ||
     ' is not allowed for kind ' || a.kind AS problem
   FROM accounts a
   WHERE (a.kind = 'customer' AND (a.balance_cents IS NULL OR a.balance_cents < 0
       OR a.balance_cents > ${BALANCE_CENTS_MAX}))
     OR (a.kind = 'house' AND a.balance_cents IS NOT NULL)
   ORDER BY a.id ${LIMIT}`,

  // Each customer posting's running balance follows from the one before and never went negative.
  `SELECT 'account ' || a.name || ': entry ' || x.entry_id || ' balance after ' ||
     x.balance_after_cents || ' does not follow from ' || x.before AS problem
   FROM (SELECT p.account_id, p.entry_id, p.amount_cents, p.balance_after_cents,
           LAG(p.balance_after_cents, 1, 0) OVER (PARTITION BY p.account_id ORDER BY p.entry_id)
             AS before
         FROM postings p JOIN accounts c ON c.id = p.account_id WHERE c.kind = 'customer') x
   JOIN accounts a ON a.id = x.account_id
   WHERE x.balance_after_cents IS NULL OR x.balance_after_cents < 0
     OR x.before + x.amount_cents <> x.balance_after_cents
   ORDER BY x.account_id, x.entry_id ${LIMIT}`,

  // A successful request points at its own entry.
  `SELECT 'request ' || r.request_id || ': answered with entry ' || r.entry_id ||
     ' that belongs to another request' AS problem
   FROM requests r LEFT JOIN entries e ON e.id = r.entry_id
   WHERE r.entry_id IS NOT NULL AND (e.id IS NULL OR e.request_id IS DISTINCT FROM r.request_id)
   ORDER BY r.request_id ${LIMIT}`,

  // An entry made for a request is that request's stored answer: applied once.
  `SELECT 'entry ' || e.id || ': request ' || e.request_id || ' does not point back at it'
     AS problem
   FROM entries e LEFT JOIN requests r ON r.request_id = e.request_id
   WHERE e.request_id IS NOT NULL AND r.entry_id IS DISTINCT FROM e.id
   ORDER BY e.id ${LIMIT}`,
];
