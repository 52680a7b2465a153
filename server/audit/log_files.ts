/**
 * Names and lists the files of the audit log: `audit/audit-000001.jsonl.enc`, `...000002...`,
 * numbered from 1 without gaps; the chain runs through them in that order.
 *
 * @module
 */

import { AuditError } from "./audit_error.ts";
import { LOG_FILE_INDEX_MAX, LOG_FILE_PATTERN, PATHS } from "./constants.ts";

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
