/**
 * The bank's audit log: encrypted (AES-256-CBC), HMAC-chained, forward-secure (a new MAC key
 * epoch at every rotation and at least daily, with an offline key that re-derives them all),
 * crash-consistent JSON Lines under `DIR/audit/`. See docs/audit-log.md.
 *
 * @module
 */

export { AuditError, type AuditErrorCode } from "./audit_error.ts";
export type { AuditEvent, ChainHead, StampedEvent } from "./audit_types.ts";
export { initAuditKeys } from "./audit_keys.ts";
export { submitAuditEvent } from "./admin_inbox.ts";
export { AuditLog, type AuditLogOptions, type AuditRecovery } from "./audit_log.ts";
export { type AuditProblem, verifyAudit, type VerifyOptions, type VerifyReport } from "./verify.ts";
export { decryptAudit, type DecryptOptions, type DecryptSummary } from "./decrypt.ts";
export {
  AUDIT_EXIT,
  type AuditCommandIo,
  type AuditCommandOptions,
  runAuditCommand,
} from "./audit_command.ts";
