/**
 * Child processes of the benchmark (the bank, the TLS baseline server): started with
 * `deno run`, watched until a line says they are ready, then drained so their output never
 * blocks them, keeping only a bounded tail for the report.
 *
 * @module
 */

/** The repository root, where the entrypoints and deno.json live. */
export const REPO_ROOT = new URL("../", import.meta.url).pathname;

/** How long a child may take to say it is ready. */
const READY_TIMEOUT_MS = 30_000;

/** How long a child may take to exit after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 60_000;

/** Output kept from the end of the child's log, for errors and final statistics. */
const TAIL_CHARS_MAX = 16 * 1024;

/** A running child. */
export interface Child {
  /** Process id. */
  readonly pid: number;
  /** The ready line's match (groups hold e.g. the port). */
  readonly ready: RegExpMatchArray;
  /** The last part of what it wrote to stdout and stderr. */
  tail(): string;
  /** SIGTERM, wait (SIGKILL after a minute); returns the exit code. */
  stop(): Promise<number>;
}

/** How to start a child. */
export interface ChildOptions {
  /** Arguments after `deno` (e.g. `run -P=bank server/main.ts serve ...`). */
  args: string[];
  /** A pattern on its output that means it is ready. */
  readyPattern: RegExp;
}

/**
 * Starts `deno ARGS` in the repository root and waits for the ready line.
 *
 * @param options Arguments and ready pattern.
 * @returns The running child.
 * @throws {Error} When it exits or stays silent; the message holds its output.
 */
export async function startChild(options: ChildOptions): Promise<Child> {
  const child = new Deno.Command(Deno.execPath(), {
    args: options.args,
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const ready = Promise.withResolvers<RegExpMatchArray>();
  let text = "";
  let waiting = true;
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text = (text + chunk).slice(-TAIL_CHARS_MAX);
      if (!waiting) continue;
      const match = text.match(options.readyPattern);
      if (match) {
        waiting = false;
        ready.resolve(match);
      }
    }
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  const exited = child.status.then((status) => {
    ready.reject(new Error(`${options.args.join(" ")} exited with ${status.code}:\n${text}`));
    return status;
  });
  const timer = setTimeout(
    () => ready.reject(new Error(`${options.args.join(" ")} not ready in ${READY_TIMEOUT_MS} ms`)),
    READY_TIMEOUT_MS,
  );
  let match: RegExpMatchArray;
  try {
    match = await ready.promise;
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch { /* exited already */ }
    await exited;
    await drained;
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    pid: child.pid,
    ready: match,
    tail: () => text,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const killer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      const status = await exited;
      clearTimeout(killer);
      await drained;
      return status.code;
    },
  };
}

/**
 * Reads a process's resident set size with `ps` (Deno allows reading another process's /proc
 * entry only with every permission).
 *
 * @param pid The process.
 * @returns Its RSS in bytes.
 * @throws {Error} When `ps` fails (the process is gone).
 */
export async function readRssBytes(pid: number): Promise<number> {
  const output = await new Deno.Command("ps", {
    args: ["-o", "rss=", "-p", String(pid)],
    stdout: "piped",
    stderr: "null",
  }).output();
  const kib = Number(new TextDecoder().decode(output.stdout).trim());
  if (!output.success || !Number.isSafeInteger(kib) || kib <= 0) {
    throw new Error(`Cannot read the memory of process ${pid}`);
  }
  return kib * 1024;
}
