/**
 * The bank's operator log: one line per event on stderr, shaped `component: event key=value ...`
 * so it reads well and greps well. Callers pass only non-secret fields; values are quoted when
 * they contain spaces so a line stays one line.
 *
 * @module
 */

/** Values a log line may carry. Never pass a PIN, key or ciphertext. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** Where server components write what happened. */
export interface Logger {
  /** Writes one line for `component` and `event` with its fields. */
  info(component: string, event: string, fields?: LogFields): void;
  /**
   * Like info, for a line written once per request: it may be held back up to
   * {@link LOG_BATCH_DELAY_MS} and written together with others. Any info or warn line writes
   * the held lines first, so the log stays in order.
   */
  infoBatched(component: string, event: string, fields?: LogFields): void;
  /** Like info, for something an operator should look at. */
  warn(component: string, event: string, fields?: LogFields): void;
}

/**
 * Longest a batched line waits before it is written. Short enough for an operator watching the
 * log; long enough that under load one write carries the lines of many requests, where a write
 * per line cost about as much CPU as answering a balance request (docs/performance.md).
 */
export const LOG_BATCH_DELAY_MS = 20;

/** Characters of held lines that make them go out at once, so the batch stays small. */
export const LOG_BATCH_CHARS_MAX = 16_384;

function formatValue(value: string | number | boolean | null): string {
  const text = String(value);
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}

/**
 * Formats one log line without a trailing newline.
 *
 * @param component The part of the bank speaking, e.g. `session`.
 * @param event What happened, e.g. `deposit`.
 * @param fields Non-secret key=value details; undefined values are left out.
 * @returns The line.
 */
export function formatLogLine(component: string, event: string, fields: LogFields = {}): string {
  let line = `${component}: ${event}`;
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) line += ` ${key}=${formatValue(value)}`;
  }
  return line;
}

/** The part of a file that {@link stderrLogger} writes to. */
export type LogOutput = Pick<Deno.FsFile, "writeSync">;

/** Options of {@link stderrLogger}. */
export interface StderrLoggerOptions {
  /** Where the lines go; default `Deno.stderr`. */
  output?: LogOutput;
}

/** A logger that writes its held lines on demand. */
export interface FlushableLogger extends Logger {
  /** Writes every held line now. */
  flush(): void;
}

/** Writes all bytes, however many calls the output needs. */
function writeAllSync(output: LogOutput, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) written += output.writeSync(bytes.subarray(written));
}

/**
 * A logger that writes to stderr, with the time of the event first. Info and warn lines are
 * written at once; batched lines within {@link LOG_BATCH_DELAY_MS}, or sooner when
 * {@link LOG_BATCH_CHARS_MAX} characters are held, when another line is written, or when the
 * process ends: at unload, and on an uncaught error or unhandled rejection, before it exits.
 *
 * It never throws: this is the operator's log, not the audit log, and a broken stderr (a log
 * collector that went away) must not stop the bank. Lines a failed write could not deliver are
 * counted, and the next write that succeeds begins with a `logger: lines_lost` warning.
 *
 * @param options Where to write.
 * @returns The logger.
 */
export function stderrLogger(options: StderrLoggerOptions = {}): FlushableLogger {
  const output = options.output ?? Deno.stderr;
  const encoder = new TextEncoder();
  let held = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lostLines = 0;
  let lostBecause = "";
  // Lines of the same millisecond share one formatted time.
  let timeMs = NaN;
  let timeText = "";
  // Reused for every write: UTF-8 takes at most 3 bytes per UTF-16 unit.
  const bytes = new Uint8Array(LOG_BATCH_CHARS_MAX * 3);
  const timeNow = () => {
    const now = Date.now();
    if (now !== timeMs) {
      timeMs = now;
      timeText = new Date(now).toISOString();
    }
    return timeText;
  };
  /** Writes text; returns the part not written when the output fails ("" when all went out). */
  const writeText = (text: string): string => {
    let rest = text;
    try {
      while (rest !== "") {
        const { read, written } = encoder.encodeInto(rest, bytes);
        writeAllSync(output, bytes.subarray(0, written));
        rest = rest.slice(read);
      }
    } catch (error) {
      lostBecause = error instanceof Error ? error.name : "unknown";
    }
    return rest;
  };
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const text = held;
    held = "";
    if (text === "") return;
    if (lostLines > 0) {
      const fields = { count: lostLines, error: lostBecause };
      const note = `${timeNow()} WARN ${formatLogLine("logger", "lines_lost", fields)}\n`;
      if (writeText(note) !== "") {
        lostLines += countLines(text);
        return;
      }
      lostLines = 0;
    }
    // what a failed write left is dropped (the output may never come back) and reported later
    lostLines += countLines(writeText(text));
  };
  const hold = (level: string, component: string, event: string, fields?: LogFields) => {
    held += `${timeNow()} ${level} ${formatLogLine(component, event, fields)}\n`;
  };
  for (const end of ["unload", "error", "unhandledrejection"]) {
    globalThis.addEventListener(end, flush);
  }
  return {
    info(component, event, fields) {
      hold("info", component, event, fields);
      flush();
    },
    infoBatched(component, event, fields) {
      hold("info", component, event, fields);
      if (held.length >= LOG_BATCH_CHARS_MAX) flush();
      else timer ??= setTimeout(flush, LOG_BATCH_DELAY_MS);
    },
    warn(component, event, fields) {
      hold("WARN", component, event, fields);
      flush();
    },
    flush,
  };
}

/** Lines in a piece of log text, the last one cut short included. */
function countLines(text: string): number {
  let lines = 0;
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) lines++;
  return lines;
}

/**
 * A logger that keeps lines in memory, for tests that assert what was logged. Batched lines are
 * kept at once, like the others.
 *
 * @returns The logger and the lines written so far.
 */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (component: string, event: string, fields?: LogFields) => {
    lines.push(formatLogLine(component, event, fields));
  };
  return { lines, info: keep, infoBatched: keep, warn: keep };
}
