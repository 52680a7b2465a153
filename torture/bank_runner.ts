/**
 * Runs the real `bank serve` as a child process for the torture run and the hostile-input tests:
 * with the `bank` permission set from deno.json, on a data directory, on a port of its choosing.
 * Unlike `server/testing/bank_process.ts` it exposes the process id (to read its memory and to
 * kill it at any moment, even before it listens) and keeps only a bounded tail of the bank's log,
 * since a torture run writes hundreds of thousands of log lines.
 *
 * @module
 */

import { bankServeArgs, REPO_ROOT } from "../server/testing/bank_process.ts";

/** Log lines kept per bank process: enough to show why a start failed. */
export const LOG_TAIL_LINES_MAX = 200;

/** How long a start may take before it counts as failed (recovery of a long log included). */
export const BANK_LISTEN_TIMEOUT_MS = 60_000;

/** Lines that mean the bank broke its promise never to crash on input; counted, never dropped. */
const CRASH_PATTERNS = [
  /uncaught/i,
  /unhandled/i,
  /panicked/i,
  /RUST_BACKTRACE/,
];

/** Options of {@link spawnBank}. */
export interface SpawnBankOptions {
  /** The data directory. */
  dataDir: string;
  /** More `serve` flags, e.g. `["--handshake-timeout-ms", "2000"]`. */
  args?: string[];
  /**
   * Open-file limit for the bank process (set with `prlimit` before Deno starts); the default is
   * inherited from the caller.
   */
  openFilesMax?: number;
  /** A umask (octal text such as "000") to start the bank with; default inherited. */
  umask?: string;
}

/** Every bank process started here that has not ended yet, for {@link killLiveBanks}. */
const LIVE_RUNS = new Set<BankRun>();

/**
 * SIGKILLs every bank process this module started that still runs: the last thing a runner that
 * gives up does, so no bank outlives it.
 */
export async function killLiveBanks(): Promise<void> {
  await Promise.all([...LIVE_RUNS].map((run) => run.kill()));
}

/** A bank process that was started; it may or may not be listening yet. */
export class BankRun {
  readonly #child: Deno.ChildProcess;
  readonly #lines: string[] = [];
  readonly #listening = Promise.withResolvers<number>();
  readonly #exited: Promise<Deno.CommandStatus>;
  readonly #drained: Promise<void>;
  #partial = "";
  #port: number | null = null;
  #crashLines: string[] = [];
  #status: Deno.CommandStatus | null = null;

  /** @param child The spawned `deno run` of `bank serve`. */
  constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#drained = Promise.all([this.#collect(child.stdout), this.#collect(child.stderr)])
      .then(() => {});
    this.#exited = child.status;
    LIVE_RUNS.add(this);
    this.#exited.then((status) => {
      this.#status = status;
      LIVE_RUNS.delete(this);
      this.#listening.reject(
        new Error(`bank exited with ${status.code} before listening:\n${this.logTail()}`),
      );
    });
    // A rejection nobody awaits (the process was killed before it listened) is not an error.
    this.#listening.promise.catch(() => {});
  }

  /** The process id of the bank (the Deno process itself). */
  get pid(): number {
    return this.#child.pid;
  }

  /** The port the bank listens on, or null before it said so. */
  get port(): number | null {
    return this.#port;
  }

  /** Log lines that look like a crash or an unhandled rejection. */
  get crashLines(): readonly string[] {
    return this.#crashLines;
  }

  /** The last {@link LOG_TAIL_LINES_MAX} lines of the bank's stdout and stderr. */
  logTail(): string {
    return this.#lines.join("\n");
  }

  /**
   * Waits until the bank listens.
   *
   * @param timeoutMs How long to wait.
   * @returns The port.
   * @throws {Error} When the bank exits first or does not listen in time; the message holds its
   * log tail.
   */
  async listening(timeoutMs = BANK_LISTEN_TIMEOUT_MS): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`bank did not listen within ${timeoutMs} ms:\n${this.logTail()}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.#listening.promise, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Resolves with the exit status once the process has ended and its output is read.
   *
   * @returns The status.
   */
  async exited(): Promise<Deno.CommandStatus> {
    const status = await this.#exited;
    await this.#drained;
    return status;
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.#status === null;
  }

  /** The exit status once the process has ended, else null. */
  get status(): Deno.CommandStatus | null {
    return this.#status;
  }

  /** Sends SIGKILL (no clean shutdown at all) and waits for the process to end. */
  async kill(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* it ended already */ }
    await this.exited();
  }

  /**
   * Sends SIGTERM and waits for the clean shutdown.
   *
   * @returns The exit code.
   */
  async stop(): Promise<number> {
    try {
      this.#child.kill("SIGTERM");
    } catch { /* it ended already */ }
    return (await this.exited()).code;
  }

  /**
   * Resident memory of the bank process from /proc, in bytes.
   *
   * @returns VmRSS, or null when the process is gone.
   */
  async residentBytes(): Promise<number | null> {
    try {
      const status = await Deno.readTextFile(`/proc/${this.pid}/status`);
      const match = status.match(/^VmRSS:\s+(\d+)\s+kB$/m);
      return match ? Number(match[1]) * 1024 : null;
    } catch {
      return null;
    }
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const text = this.#partial + chunk;
      const parts = text.split("\n");
      this.#partial = parts.pop() ?? "";
      for (const line of parts) this.#line(line);
    }
    if (this.#partial !== "") this.#line(this.#partial);
  }

  #line(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > LOG_TAIL_LINES_MAX) this.#lines.shift();
    if (CRASH_PATTERNS.some((pattern) => pattern.test(line))) this.#crashLines.push(line);
    if (this.#port === null) {
      const match = line.match(/bank: listening address=\S*:(\d+)/);
      if (match) {
        this.#port = Number(match[1]);
        this.#listening.resolve(this.#port);
      }
    }
  }
}

/**
 * Starts `bank serve --data DIR --port 0 --console-port 0` without waiting for it to listen.
 *
 * @param options Data directory, extra flags and an optional open-file limit.
 * @returns The running process.
 */
export function spawnBank(options: SpawnBankOptions): BankRun {
  let command = Deno.execPath();
  let args = bankServeArgs(options.dataDir, options.args);
  if (options.openFilesMax !== undefined) {
    const limit = options.openFilesMax;
    args = [`--nofile=${limit}:${limit}`, command, ...args];
    command = "prlimit";
  }
  if (options.umask !== undefined) {
    if (!/^[0-7]{3,4}$/.test(options.umask)) throw new RangeError(`Bad umask: ${options.umask}`);
    args = ["-c", `umask ${options.umask} && exec "$0" "$@"`, command, ...args];
    command = "sh";
  }
  const child = new Deno.Command(command, {
    args,
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  return new BankRun(child);
}

/**
 * Starts the bank and waits until it listens.
 *
 * @param options As for {@link spawnBank}.
 * @returns The running, listening bank.
 * @throws {Error} When it does not listen; the process is killed and the error holds its log.
 */
export async function startBank(options: SpawnBankOptions): Promise<BankRun> {
  const run = spawnBank(options);
  try {
    await run.listening();
  } catch (error) {
    await run.kill();
    throw error;
  }
  return run;
}
