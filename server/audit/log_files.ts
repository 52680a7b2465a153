/**
 * Names and lists the files of the audit log: `audit/audit-000001.jsonl.enc`, `...000002...`,
 * numbered from 1 without gaps; the chain runs through them in that order.
 *
 * @module
 */

import { AuditError } from "./audit_error.ts";
import { LOG_FILE_INDEX_MAX, LOG_FILE_PATTERN, PATHS } from "./constants.ts";
import { errorText, pathExists, syncDirectory } from "./key_file.ts";

/** One log file. */
export interface LogFile {
  index: number;
  /** Name relative to the data directory, as shown in reports: `audit/audit-000001.jsonl.enc`. */
  name: string;
  path: string;
  /** Size when listed. */
  bytes: number;
}

/**
 * Builds a log file's name relative to the data directory.
 *
 * @param index The file number, 1..LOG_FILE_INDEX_MAX.
 * @returns The relative name.
 */
export function logFileName(index: number): string {
  if (!Number.isInteger(index) || index < 1 || index > LOG_FILE_INDEX_MAX) {
    throw new RangeError(`Log file number out of range: ${index}`);
  }
  return `${PATHS.logDir}/audit-${String(index).padStart(6, "0")}.jsonl.enc`;
}

/**
 * Lists the log files in chain order and checks that none is missing in between.
 *
 * @param dataDir The data directory.
 * @returns The files, possibly none.
 * @throws {AuditError} `missing_file` for a gap in the numbering or a log not starting at 1.
 */
export async function listLogFiles(dataDir: string): Promise<LogFile[]> {
  const files: LogFile[] = [];
  try {
    for await (const entry of Deno.readDir(`${dataDir}/${PATHS.logDir}`)) {
      const match = LOG_FILE_PATTERN.exec(entry.name);
      if (match === null || !entry.isFile) continue; // temp files and the operator's notes
      const index = Number(match[1]);
      if (index < 1) continue; // numbering starts at 1; 000000 is not ours
      const name = logFileName(index);
      const path = `${dataDir}/${name}`;
      files.push({ index, name, path, bytes: (await Deno.stat(path)).size });
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    if (error instanceof AuditError) throw error;
    throw new AuditError("io", "Cannot list the audit log", { file: PATHS.logDir, cause: error });
  }
  files.sort((a, b) => a.index - b.index);
  files.forEach((file, i) => {
    if (file.index === i + 1) return;
    throw new AuditError("missing_file", `Log file ${logFileName(i + 1)} is missing`, {
      file: file.name,
    });
  });
  return files;
}

/**
 * Opens a log file for appending, creating it (0600) when asked; a new file's name is made durable
 * by fsyncing the directory.
 *
 * @param dataDir The data directory.
 * @param index The file number.
 * @param options `createNew`: the file must not exist yet (a rotation).
 * @returns The open file and its size.
 * @throws {AuditError} `io` when the file cannot be opened.
 */
export async function openLogFile(
  dataDir: string,
  index: number,
  options: { createNew: boolean },
): Promise<{ file: Deno.FsFile; bytes: number }> {
  const name = logFileName(index);
  const path = `${dataDir}/${name}`;
  try {
    const logDir = `${dataDir}/${PATHS.logDir}`;
    await Deno.mkdir(logDir, { recursive: true, mode: 0o700 });
    const existed = !options.createNew && await pathExists(path);
    const file = await Deno.open(path, {
      append: true,
      create: !options.createNew,
      createNew: options.createNew,
      mode: 0o600,
    });
    if (!existed) await syncDirectory(logDir); // the new file's name must survive a crash too
    return { file, bytes: (await file.stat()).size };
  } catch (error) {
    if (error instanceof AuditError) throw error;
    throw new AuditError("io", `Cannot open log file: ${errorText(error)}`, {
      file: name,
      cause: error,
    });
  }
}

/**
 * Takes the log's writer lock (an advisory `flock` on `audit/writer.lock`), so that two banks
 * never append to one chain. The lock ends when the returned file is closed or the process dies.
 *
 * @param dataDir The data directory.
 * @returns The lock file, to close when done.
 * @throws {AuditError} `in_use` when another process holds the lock; `io` on a file system error.
 */
export async function takeWriterLock(dataDir: string): Promise<Deno.FsFile> {
  let file: Deno.FsFile;
  try {
    await Deno.mkdir(`${dataDir}/${PATHS.logDir}`, { recursive: true, mode: 0o700 });
    file = await Deno.open(`${dataDir}/${PATHS.writerLock}`, {
      read: true,
      write: true,
      create: true,
      mode: 0o600,
    });
  } catch (error) {
    throw new AuditError("io", `Cannot open the writer lock: ${errorText(error)}`, {
      file: PATHS.writerLock,
      cause: error,
    });
  }
  if (await file.tryLock(true)) return file;
  file.close();
  throw new AuditError(
    "in_use",
    "Another process is writing this audit log (is a bank already running on this directory?)",
    { file: PATHS.writerLock },
  );
}
