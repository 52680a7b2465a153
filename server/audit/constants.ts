/**
 * Every limit, label and file name of the audit log, in one place. Changing a label or the MAC
 * layout makes every existing log unverifiable, so they carry a version suffix.
 *
 * @module
 */

/** Bytes of every symmetric secret (master key, epoch secret, derived keys): AES-256 / SHA-256. */
export const KEY_BYTES = 32;

/** AES-CBC block and IV size in bytes (FIPS 197, SP 800-38A). */
export const IV_BYTES = 16;

/** HMAC-SHA256 tag size in bytes (RFC 2104 with SHA-256); the tag is never truncated. */
export const MAC_BYTES = 32;

/** Rotate to a new file (and a new key epoch) once a file would grow past this. */
export const FILE_BYTES_MAX = 64 * 1024 * 1024;

/** Smallest rotation size accepted from options: one maximal line must always fit. */
export const FILE_BYTES_MIN = 64 * 1024;

/** Largest JSON text of one event: real events are a few hundred bytes; bounds each line. */
export const EVENT_BYTES_MAX = 16 * 1024;

/** Longest line a reader accepts: the base64url ciphertext of EVENT_BYTES_MAX plus the fields. */
export const LINE_BYTES_MAX = 32 * 1024;

/** Bytes read from a log file per read call: large enough that syscalls do not dominate. */
export const READ_CHUNK_BYTES = 256 * 1024;

/** Bytes a reader allocates at once for the records it parses (record_parser.ts): a few hundred
 * records of a few hundred bytes; larger than the largest record (LINE_BYTES_MAX bounds it). */
export const RECORD_SLAB_BYTES = 64 * 1024;

/** Checked records a reader holds back before releasing them: a failed MAC is blamed on the key
 * only when later records of its epoch are in view and none verifies (WRONG_KEY_FOLLOWERS). A
 * decrypting reader decrypts the records held back together, in one native call. */
export const CRYPTO_WINDOW = 64;

/** Events buffered without a flush before append refuses: bounds memory if flush is forgotten. */
export const PENDING_RECORDS_MAX = 100_000;

/** The MAC key moves to a new epoch at least this often, even when no file is rotated. */
export const EPOCH_AGE_MAX_MS = 24 * 60 * 60 * 1000;

/** How often an idle log checks whether its epoch is due to move. */
export const EPOCH_CHECK_INTERVAL_MS = 60 * 60 * 1000;

/** Largest epoch jump between neighbouring records: ~27 years of idle daily steps; bounds the
 * key derivations an edited epoch field can make a verifier perform. */
export const EPOCH_GAP_MAX = 10_000;

/** Largest epoch number a record may carry; fits the 4-byte field of the MAC input. */
export const EPOCH_MAX = 0xffff_ffff;

/** Batches of MACs (one read chunk each) a reader lets the checker work on while it reads on:
 * one, so that a checker on a worker thread hashes a chunk while this thread parses the next. */
export const MAC_BATCHES_AHEAD = 1;

/** Logs of at least this many bytes are checked with a MAC worker (mac_worker_client.ts): below
 * it, starting the worker (about 0.1 s) costs more than it saves. About 8,000 records. */
export const MAC_WORKER_LOG_BYTES_MIN = 4 * 1024 * 1024;

/** A failed MAC is blamed on the key rather than the record only when at least this many later
 * records of its epoch are in view and none of them verifies: an edited record breaks itself and
 * the next link only, a foreign key breaks every record. */
export const WRONG_KEY_FOLLOWERS = 2;

/** Appended events become durable within this delay even when no caller flushes (logins,
 * connections): a crash then loses at most this much of them. */
export const AUTO_FLUSH_DELAY_MS = 100;

/** How often the writer looks for administrative events other processes left in the inbox. */
export const INBOX_POLL_INTERVAL_MS = 1_000;

/** Inbox files taken per look: bounds the memory and the batch of one ingestion. */
export const INBOX_FILES_PER_STEP = 256;

/** Largest inbox file: one encrypted event of EVENT_BYTES_MAX with its fields. */
export const INBOX_FILE_BYTES_MAX = LINE_BYTES_MAX;

/** Decrypted records kept at the end of a scan to find the last entry id without a second pass. */
export const RECOVERY_TAIL_RECORDS = 1_024;

/** Logs smaller than this get no progress bar: they finish before one would be useful. */
export const PROGRESS_BYTES_MIN = 4 * 1024 * 1024;

/** Domain label at the start of every MAC input. */
export const MAC_LABEL = "bank-audit-line-v1";

/** HKDF info of the AES-256-CBC key, derived from the master key. */
export const ENCRYPTION_INFO = "bank audit encryption v1";

/** HKDF info of the one-way step from one epoch secret to the next. */
export const EPOCH_STEP_INFO = "bank audit epoch step v1";

/** HKDF info of an epoch's HMAC key, derived from that epoch's secret. */
export const EPOCH_MAC_INFO = "bank audit epoch mac v1";

/** HKDF info of the HMAC key of inbox files, derived from the master key. */
export const INBOX_MAC_INFO = "bank audit inbox mac v1";

/** Domain label at the start of an inbox file's MAC input. */
export const INBOX_MAC_LABEL = "bank-audit-inbox-v1";

/** Format tag inside an inbox file. */
export const INBOX_FORMAT = "bank-audit-inbox-v1";

/** Format tag inside the offline key file. */
export const OFFLINE_KEY_FORMAT = "bank-audit-offline-key-v1";

/** Format tag inside the epoch key file. */
export const EPOCH_KEY_FORMAT = "bank-audit-epoch-key-v1";

/** File names inside the data directory. */
export const PATHS = {
  keysDir: "keys",
  masterKey: "keys/audit-master.key",
  epochKey: "keys/audit-epoch.key",
  offlineKey: "audit-offline.key",
  logDir: "audit",
  writerLock: "audit/writer.lock",
  inboxDir: "audit/inbox",
} as const;

/** Log file names: `audit-000001.jsonl.enc`, numbered from 1 without gaps. */
export const LOG_FILE_PATTERN = /^audit-(\d{6})\.jsonl\.enc$/;

/** Inbox file names: `<ms since 1970, 13 digits>-<16 hex digits>.evt`; the stem is the inbox id. */
export const INBOX_FILE_PATTERN = /^(\d{13}-[0-9a-f]{16})\.evt$/;

/** Highest file number the six-digit name can carry. */
export const LOG_FILE_INDEX_MAX = 999_999;

if (LINE_BYTES_MAX < Math.ceil(((EVENT_BYTES_MAX + IV_BYTES) * 4) / 3) + 256) {
  throw new Error("LINE_BYTES_MAX must hold the ciphertext of EVENT_BYTES_MAX");
}
if (FILE_BYTES_MIN < LINE_BYTES_MAX) throw new Error("FILE_BYTES_MIN must hold one line");
