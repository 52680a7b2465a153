/**
 * Owner-only key files. Writes are atomic (temp file, fsync, rename, fsync of the directory), so a
 * crash leaves either the old key or the new one, and replacing a file unlinks the old key's inode.
 * Reads refuse files that group or others could read or write, and anything but a regular file.
 *
 * Note: replacing a file does not scrub the disk blocks that held the old key; on journaling file
 * systems and SSDs nothing short of full-disk encryption does.
 *
 * @module
 */

import { AuditError } from "./audit_error.ts";
import { type Bytes, randomBytes, toBase64Url } from "./audit_crypto.ts";

/** Key files are readable and writable by their owner only. */
const KEY_FILE_MODE = 0o600;

/** Permission bits that must be clear on a key file: any access by group or others. */
const KEY_FILE_FORBIDDEN_BITS = 0o077;

/** Bytes of the random suffix of temp file names: collisions are not a concern. */
const TEMP_SUFFIX_BYTES = 6;

/** Key files are tiny; a larger one is not ours. */
const KEY_FILE_BYTES_MAX = 4096;

/**
 * The directory part of a path.
 *
 * @param path A file path.
 * @returns Its directory ("." for a bare name).
 */
export function directoryOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
}

/**
 * Makes a directory entry change (create, rename) durable by fsyncing the directory.
 *
 * @param dir The directory.
 */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await Deno.open(dir, { read: true });
  try {
    await handle.sync();
  } finally {
    handle.close();
  }
}

/**
 * Writes a key file atomically with mode 0600, replacing any previous one.
 *
 * @param path Where.
 * @param bytes The contents; the caller zeroes its copy.
 * @throws {AuditError} `io` when the file system fails.
 */
export function writeKeyFile(path: string, bytes: Bytes): Promise<void> {
  return writePrivateFile(path, bytes, "key file");
}

/**
 * Writes an owner-only (0600) file atomically: temp file, fsync, rename, fsync of the directory.
 *
 * @param path Where.
 * @param bytes The contents.
 * @param what What the file is, for the error message.
 * @throws {AuditError} `io` when the file system fails.
 */
export async function writePrivateFile(path: string, bytes: Bytes, what: string): Promise<void> {
  const temp = `${path}.tmp-${toBase64Url(randomBytes(TEMP_SUFFIX_BYTES))}`;
  try {
    const handle = await Deno.open(temp, { write: true, createNew: true, mode: KEY_FILE_MODE });
    try {
      await Deno.chmod(temp, KEY_FILE_MODE); // the umask can only clear bits; make the mode exact
      let written = 0;
      while (written < bytes.length) written += await handle.write(bytes.subarray(written));
      await handle.sync();
    } finally {
      handle.close();
    }
    await Deno.rename(temp, path);
    await syncDirectory(directoryOf(path));
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw new AuditError("io", `Cannot write ${what}: ${errorText(error)}`, {
      file: path,
      cause: error,
    });
  }
}

/**
 * Reads a key file after checking that it is a regular file only its owner can access.
 *
 * @param path Where.
 * @returns The contents; the caller zeroes them after use.
 * @throws {AuditError} `missing_key`, `insecure_key_file`, or `io`.
 */
export async function readKeyFile(path: string): Promise<Bytes> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new AuditError("missing_key", "Key file does not exist", { file: path });
    }
    throw new AuditError("io", `Cannot inspect key file: ${errorText(error)}`, {
      file: path,
      cause: error,
    });
  }
  assertOwnerOnly(path, info);
  if (info.size > KEY_FILE_BYTES_MAX) {
    throw new AuditError("malformed", `Key file is ${info.size} bytes, not a key`, { file: path });
  }
  try {
    return await Deno.readFile(path) as Bytes;
  } catch (error) {
    throw new AuditError("io", `Cannot read key file: ${errorText(error)}`, {
      file: path,
      cause: error,
    });
  }
}

/**
 * Tells whether a path exists (without following a symlink).
 *
 * @param path The path.
 * @returns True when something is there.
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw new AuditError("io", `Cannot inspect: ${errorText(error)}`, { file: path, cause: error });
  }
}

function assertOwnerOnly(path: string, info: Deno.FileInfo): void {
  if (!info.isFile) {
    throw new AuditError("insecure_key_file", "Key file is not a regular file", { file: path });
  }
  const mode = info.mode ?? 0;
  if ((mode & KEY_FILE_FORBIDDEN_BITS) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, "0");
    throw new AuditError(
      "insecure_key_file",
      `Key file has mode ${octal}; only its owner may access it (chmod 600)`,
      { file: path },
    );
  }
}

/**
 * Text of an unknown error for messages; file system errors never carry key bytes.
 *
 * @param error Anything thrown.
 * @returns Its message.
 */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
