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
  /** Like info, for something an operator should look at. */
  warn(component: string, event: string, fields?: LogFields): void;
}

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

/**
 * A logger that writes to stderr, with the time first.
 *
 * @returns The logger.
 */
export function stderrLogger(): Logger {
  const encoder = new TextEncoder();
  const write = (level: string, component: string, event: string, fields?: LogFields) => {
    const time = new Date().toISOString();
    const text = `${time} ${level} ${formatLogLine(component, event, fields)}\n`;
    Deno.stderr.writeSync(encoder.encode(text));
  };
  return {
    info: (component, event, fields) => write("info", component, event, fields),
    warn: (component, event, fields) => write("WARN", component, event, fields),
  };
}

/**
 * A logger that keeps lines in memory, for tests that assert what was logged.
 *
 * @returns The logger and the lines written so far.
 */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (component, event, fields) => lines.push(formatLogLine(component, event, fields)),
    warn: (component, event, fields) => lines.push(formatLogLine(component, event, fields)),
  };
}
