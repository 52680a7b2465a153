/**
 * Files that hold key material: created new with mode 0600, read only when no one but the owner
 * can access them. Error messages name the path and the problem, never the contents.
 *
 * @module
 */

/** Largest secret file read; key files are a few hundred bytes, so anything bigger is a mistake. */
export const SECRET_FILE_BYTES_MAX = 64 * 1024;

/** Owner read/write only. */
const SECRET_FILE_MODE = 0o600;

/** Permission bits that give group or others any access. */
const GROUP_OTHER_BITS = 0o077;

/** Why a secret file could not be written or read. */
export type SecretFileErrorCode =
  | "missing"
  | "exists"
  | "insecure_permissions"
  | "malformed"
  | "unreadable";

/** A secret file problem; the message names the path and never the contents. */
export class SecretFileError extends Error {
  /** What went wrong: see {@link SecretFileErrorCode}. */
  readonly code: SecretFileErrorCode;

  /**
   * Creates the error.
   *
   * @param code What went wrong.
   * @param message Path and problem.
   * @param options The underlying error, if any.
   */
  constructor(code: SecretFileErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SecretFileError";
    this.code = code;
  }
}

/**
 * Creates a new file with mode 0600 holding `bytes`. Refuses to replace an existing file, so a key
 * is never silently overwritten.
 *
 * @example Write and read back
 * ```ts ignore
 * import { readSecretFile, writeSecretFile } from "./secret_file.ts";
 * await writeSecretFile("/tmp/key", crypto.getRandomValues(new Uint8Array(32)));
 * const key = await readSecretFile("/tmp/key");
 * ```
 *
 * @param path The file to create.
 * @param bytes The contents.
 * @throws {SecretFileError} `exists` when the path exists; `unreadable` when the file cannot be
 * created (missing directory, permissions); `malformed` when the contents are too large.
 */
export async function writeSecretFile(path: string, bytes: Uint8Array): Promise<void> {
  if (bytes.length > SECRET_FILE_BYTES_MAX) {
    throw new SecretFileError(
      "malformed",
      `Secret file contents must be at most ${SECRET_FILE_BYTES_MAX} bytes: got ${bytes.length}`,
    );
  }
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { write: true, createNew: true, mode: SECRET_FILE_MODE });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new SecretFileError("exists", `Secret file ${path} already exists; not overwritten`);
    }
    throw new SecretFileError(
      "unreadable",
      `Cannot create secret file ${path}: ${describe(error)}`,
      {
        cause: error,
      },
    );
  }
  try {
    // The mode given to open() is reduced by the umask only; chmod makes 0600 exact either way.
    await Deno.chmod(path, SECRET_FILE_MODE);
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.syncData();
  } catch (error) {
    file.close();
    await Deno.remove(path).catch(() => {});
    throw new SecretFileError(
      "unreadable",
      `Cannot write secret file ${path}: ${describe(error)}`,
      {
        cause: error,
      },
    );
  }
  file.close();
}

/**
 * Reads a secret file, refusing one that group or others can access.
 *
 * @param path The file.
 * @returns Its contents; the caller should wipe them after use.
 * @throws {SecretFileError} `missing`; `insecure_permissions` when the mode has any of 0o077 (or
 * cannot be known); `malformed` when it is not a regular file or too large; `unreadable`.
 */
export async function readSecretFile(path: string): Promise<Uint8Array<ArrayBuffer>> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new SecretFileError("missing", `Secret file ${path} does not exist`, { cause: error });
    }
    throw new SecretFileError("unreadable", `Cannot open secret file ${path}: ${describe(error)}`, {
      cause: error,
    });
  }
  try {
    // Checked on the open file, so the file read is the file whose mode was checked.
    const info = await file.stat();
    assertSecretFileInfo(path, info);
    return await readAll(file, info.size);
  } finally {
    file.close();
  }
}

function assertSecretFileInfo(path: string, info: Deno.FileInfo): void {
  if (!info.isFile) throw new SecretFileError("malformed", `Secret file ${path} is not a file`);
  if (info.mode === null) {
    throw new SecretFileError(
      "insecure_permissions",
      `Cannot check the permissions of secret file ${path} on this system`,
    );
  }
  const mode = info.mode & 0o777;
  if ((mode & GROUP_OTHER_BITS) !== 0) {
    throw new SecretFileError(
      "insecure_permissions",
      `Secret file ${path} has mode 0${mode.toString(8)}; group and others must have no ` +
        `access: run chmod 600 ${path}`,
    );
  }
  if (info.size > SECRET_FILE_BYTES_MAX) {
    throw new SecretFileError(
      "malformed",
      `Secret file ${path} has ${info.size} bytes, more than ${SECRET_FILE_BYTES_MAX}`,
    );
  }
}

async function readAll(file: Deno.FsFile, size: number): Promise<Uint8Array<ArrayBuffer>> {
  // One byte of room tells a file that grew after stat() from one that did not.
  const buffer = new Uint8Array(size + 1);
  let filled = 0;
  while (filled < buffer.length) {
    const count = await file.read(buffer.subarray(filled));
    if (count === null) break;
    filled += count;
  }
  if (filled > size) {
    buffer.fill(0);
    throw new SecretFileError("malformed", "Secret file changed size while it was read");
  }
  const contents = buffer.slice(0, filled);
  buffer.fill(0);
  return contents;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.name : "unknown error";
}
