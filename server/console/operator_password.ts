/**
 * The operator's console password, stored only as a PBKDF2-SHA256 hash in an owner-only file,
 * `DIR/keys/operator.pass`:
 *
 * ```json
 * {"v":1,"kdf":"PBKDF2-SHA256","iterations":600000,"salt":"…","hash":"…","oneTime":false,
 *  "setAt":"2025-01-01T00:00:00.000Z"}
 * ```
 *
 * The file is read again on every check, so `bank operator passwd` takes effect at once, even
 * while the bank is running. A file readable by group or others is refused, as is a symlink.
 *
 * Note: the comparison goes through `crypto.subtle.verify` (HMAC under a fresh random key), which
 * compares in constant time; the time a check takes depends only on the stored iteration count.
 *
 * @module
 */

import { fromBase64Url, toBase64Url } from "../../lib/bytes.ts";

/** Fewest characters in an operator password: long enough that guessing it online is hopeless. */
export const OPERATOR_PASSWORD_CHARS_MIN = 12;

/** Most characters in an operator password; bounds the work done on a submitted form. */
export const OPERATOR_PASSWORD_CHARS_MAX = 256;

/**
 * PBKDF2-SHA256 iterations for a new hash: the OWASP 2023 figure for PBKDF2-SHA256. At about
 * 29 ms per 200,000 on this project's machines (see `server/auth/pin_hash.ts`), one check costs
 * under 0.1 s, which an operator does not notice and a guesser pays for every try.
 */
export const OPERATOR_PASSWORD_ITERATIONS = 600_000;

/** Smallest stored iteration count accepted; lower means the file was tampered with. */
export const OPERATOR_PASSWORD_ITERATIONS_MIN = 100_000;

/** Largest stored iteration count accepted, so a corrupt file cannot stall a sign-in. */
export const OPERATOR_PASSWORD_ITERATIONS_MAX = 10_000_000;

/** Random salt bytes (128 bits). */
const SALT_BYTES = 16;

/** PBKDF2 output bytes: the SHA-256 size. */
const HASH_BYTES = 32;

/** Random bytes in a one-time password: 144 bits, 24 base64url characters. */
const ONE_TIME_PASSWORD_BYTES = 18;

/** Largest password file read; the real one is about 200 bytes. */
const PASSWORD_FILE_BYTES_MAX = 4 * 1024;

/** Why a password or its file was refused. */
export type OperatorPasswordErrorCode =
  | "too_short"
  | "too_long"
  | "missing"
  | "file_unsafe"
  | "file_invalid";

/** A password that breaks the rules, or a password file that cannot be trusted. */
export class OperatorPasswordError extends Error {
  /** What was refused. */
  readonly code: OperatorPasswordErrorCode;

  /**
   * Creates the error.
   *
   * @param code What was refused.
   * @param message What is wrong; never contains the password or the hash.
   */
  constructor(code: OperatorPasswordErrorCode, message: string) {
    super(message);
    this.name = "OperatorPasswordError";
    this.code = code;
  }
}

/** What a successful or failed check found. */
export interface PasswordCheck {
  /** True when the password matches. */
  ok: boolean;
  /** True when the stored password is the one-time password printed at first start. */
  oneTime: boolean;
}

interface StoredPassword {
  v: 1;
  kdf: "PBKDF2-SHA256";
  iterations: number;
  salt: string;
  hash: string;
  oneTime: boolean;
  setAt: string;
}

/**
 * Names the password file of a data directory.
 *
 * @param dataDir The data directory.
 * @returns `DIR/keys/operator.pass`.
 */
export function operatorPasswordPath(dataDir: string): string {
  return `${dataDir}/keys/operator.pass`;
}

/**
 * Checks a new password against the length rules.
 *
 * @param password The password as typed.
 * @throws {OperatorPasswordError} "too_short" or "too_long"; the message does not repeat it.
 */
export function validateOperatorPassword(password: string): void {
  const chars = [...password].length;
  if (chars < OPERATOR_PASSWORD_CHARS_MIN) {
    throw new OperatorPasswordError(
      "too_short",
      `Password must have at least ${OPERATOR_PASSWORD_CHARS_MIN} characters: got ${chars}`,
    );
  }
  if (chars > OPERATOR_PASSWORD_CHARS_MAX) {
    throw new OperatorPasswordError(
      "too_long",
      `Password must have at most ${OPERATOR_PASSWORD_CHARS_MAX} characters: got ${chars}`,
    );
  }
}

/**
 * Stores a new operator password, replacing any previous one atomically.
 *
 * @param dataDir The data directory; `keys/` is created owner-only when missing.
 * @param password The new password, {@link OPERATOR_PASSWORD_CHARS_MIN} characters or more.
 * @param options `oneTime` marks the generated first-start password (default false).
 * @throws {OperatorPasswordError} When the password breaks the rules; nothing is changed.
 */
export async function setOperatorPassword(
  dataDir: string,
  password: string,
  options: { oneTime?: boolean } = {},
): Promise<void> {
  validateOperatorPassword(password);
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await stretch(password, salt, OPERATOR_PASSWORD_ITERATIONS);
  const stored: StoredPassword = {
    v: 1,
    kdf: "PBKDF2-SHA256",
    iterations: OPERATOR_PASSWORD_ITERATIONS,
    salt: toBase64Url(salt),
    hash: toBase64Url(hash),
    oneTime: options.oneTime ?? false,
    setAt: new Date().toISOString(),
  };
  hash.fill(0);
  await Deno.mkdir(`${dataDir}/keys`, { recursive: true, mode: 0o700 });
  await writeOwnerOnly(operatorPasswordPath(dataDir), JSON.stringify(stored) + "\n");
}

/**
 * Makes sure an operator password exists. On first start, when there is none, it creates a
 * random one-time password and returns it so the caller can show it once; the operator should
 * replace it with `bank operator passwd`.
 *
 * @param dataDir The data directory.
 * @returns The new one-time password, or null when a password was already set.
 * @throws {OperatorPasswordError} When an existing file is unsafe or unreadable.
 */
export async function ensureOperatorPassword(dataDir: string): Promise<string | null> {
  if (await readStored(dataDir) !== undefined) return null;
  const random = crypto.getRandomValues(new Uint8Array(ONE_TIME_PASSWORD_BYTES));
  const password = toBase64Url(random);
  random.fill(0);
  await setOperatorPassword(dataDir, password, { oneTime: true });
  return password;
}

/**
 * Checks a password against the stored hash. A password of the wrong length costs the same work
 * and fails.
 *
 * @param dataDir The data directory.
 * @param password The password as submitted.
 * @returns Whether it matches, and whether the stored one is a one-time password.
 * @throws {OperatorPasswordError} "missing" when no password is set, or when the file is unsafe.
 */
export async function verifyOperatorPassword(
  dataDir: string,
  password: string,
): Promise<PasswordCheck> {
  const stored = await readStored(dataDir);
  if (stored === undefined) {
    throw new OperatorPasswordError(
      "missing",
      "No operator password is set: run `bank operator passwd`",
    );
  }
  const chars = [...password].length;
  const wellFormed = chars >= 1 && chars <= OPERATOR_PASSWORD_CHARS_MAX;
  // A password of the wrong length is still stretched (as a stand-in) so it costs the same.
  const salt = decodeField(stored.salt, "salt");
  const derived = await stretch(wellFormed ? password : "", salt, stored.iterations);
  const matches = await constantTimeEqual(derived, decodeField(stored.hash, "hash"));
  derived.fill(0);
  return { ok: matches && wellFormed, oneTime: stored.oneTime };
}

async function stretch(
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = new TextEncoder().encode(password.normalize("NFC"));
  // Not extractable: the password only ever leaves this key as PBKDF2 output.
  const key = await crypto.subtle.importKey("raw", bytes, "PBKDF2", false, ["deriveBits"]);
  bytes.fill(0);
  const params = { name: "PBKDF2", hash: "SHA-256", salt, iterations };
  return new Uint8Array(await crypto.subtle.deriveBits(params, key, HASH_BYTES * 8));
}

/** Compares two byte strings in constant time: HMAC both under a fresh key and let verify compare. */
async function constantTimeEqual(
  a: Uint8Array<ArrayBuffer>,
  b: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  const algorithm: HmacKeyGenParams = { name: "HMAC", hash: "SHA-256" };
  const key = await crypto.subtle.generateKey(algorithm, false, ["sign", "verify"]) as CryptoKey;
  const macOfB = await crypto.subtle.sign("HMAC", key, b);
  return await crypto.subtle.verify("HMAC", key, macOfB, a);
}

async function readStored(dataDir: string): Promise<StoredPassword | undefined> {
  const path = operatorPasswordPath(dataDir);
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  if (!info.isFile) {
    throw new OperatorPasswordError("file_unsafe", `${path} is not a regular file: refusing it`);
  }
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8);
    throw new OperatorPasswordError(
      "file_unsafe",
      `${path} is readable by group or others (mode ${mode}): run chmod 600 on it`,
    );
  }
  if (info.size > PASSWORD_FILE_BYTES_MAX) {
    throw new OperatorPasswordError("file_invalid", `${path} is larger than a password file`);
  }
  return parseStored(path, await Deno.readTextFile(path));
}

function parseStored(path: string, text: string): StoredPassword {
  let value: Partial<StoredPassword>;
  try {
    value = JSON.parse(text);
  } catch {
    throw new OperatorPasswordError("file_invalid", `${path} is not valid JSON`);
  }
  const iterations = value?.iterations;
  const ok = value?.v === 1 && value.kdf === "PBKDF2-SHA256" &&
    typeof value.salt === "string" && typeof value.hash === "string" &&
    typeof value.oneTime === "boolean" && Number.isSafeInteger(iterations) &&
    iterations! >= OPERATOR_PASSWORD_ITERATIONS_MIN &&
    iterations! <= OPERATOR_PASSWORD_ITERATIONS_MAX;
  if (!ok) {
    throw new OperatorPasswordError(
      "file_invalid",
      `${path} is not a version 1 PBKDF2-SHA256 password file: set the password again`,
    );
  }
  return value as StoredPassword;
}

function decodeField(text: string, label: "salt" | "hash"): Uint8Array<ArrayBuffer> {
  const wanted = label === "hash" ? HASH_BYTES : SALT_BYTES;
  let bytes: Uint8Array<ArrayBuffer> | null = null;
  try {
    bytes = fromBase64Url(text);
  } catch {
    // Reported below with the same message as a wrong length.
  }
  if (bytes === null || bytes.byteLength !== wanted) {
    throw new OperatorPasswordError("file_invalid", `Stored ${label} must be ${wanted} bytes`);
  }
  return bytes;
}

/** Writes a file that only its owner may read, by writing a fresh file and renaming it in place. */
async function writeOwnerOnly(path: string, text: string): Promise<void> {
  const temporary = `${path}.${toBase64Url(crypto.getRandomValues(new Uint8Array(6)))}.tmp`;
  const file = await Deno.open(temporary, { write: true, createNew: true, mode: 0o600 });
  try {
    await file.write(new TextEncoder().encode(text));
    await file.sync();
  } finally {
    file.close();
  }
  try {
    // The mode given at creation is narrowed by the umask only, never widened; make it exact.
    await Deno.chmod(temporary, 0o600);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}
