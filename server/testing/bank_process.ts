/**
 * Test support: runs the real `bank` and `atm` commands as child processes with the permission
 * sets from deno.json, exactly as an operator would, and waits for the bank to listen.
 *
 * @module
 */

/** The repository root, for running the entrypoints. */
export const REPO_ROOT = new URL("../../", import.meta.url).pathname;

/** How long a test waits for a bank to start listening before it gives up. */
const BANK_START_TIMEOUT_MS = 30_000;

/** Output of a finished command. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `deno run -P=<set> <entry> ...args` to completion.
 *
 * @param program "bank" or "atm".
 * @param args Its arguments.
 * @param stdin Text to write to its standard input (closed afterwards).
 * @returns Exit code and output.
 */
export async function runCommand(
  program: "bank" | "atm",
  args: string[],
  stdin = "",
): Promise<CommandResult> {
  const entry = program === "bank" ? "server/main.ts" : "atm/main.ts";
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", `-P=${program}`, entry, ...args],
    cwd: REPO_ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** A bank server running as a child process. */
export interface BankProcess {
  port: number;
  dataDir: string;
  /** Everything the bank wrote to stderr so far. */
  log(): string;
  /** Sends SIGTERM and waits for a clean exit; returns the exit code. */
  stop(): Promise<number>;
  /** Sends SIGKILL and waits. */
  kill(): Promise<void>;
}

/**
 * The arguments after the Deno executable that run `bank serve` on a data directory, on a port of
 * the bank's choosing and with the console off unless `extraArgs` turns it on: how tests and the
 * torture run start a bank.
 *
 * @param dataDir The data directory.
 * @param extraArgs More `serve` flags; a later flag overrides an earlier one.
 * @returns The `deno run` arguments.
 */
export function bankServeArgs(dataDir: string, extraArgs: string[] = []): string[] {
  return [
    "run",
    "--quiet",
    "-P=bank",
    "server/main.ts",
    "serve",
    "--data",
    dataDir,
    "--port",
    "0",
    // No console unless asked for: its default port is fixed, and tests run at once.
    "--console-port",
    "0",
    ...extraArgs,
  ];
}

/** A child process that printed its ready line, from {@link startUntilReady}. */
export interface ReadyProcess {
  /** The first capture group of the ready pattern. */
  ready: string;
  /** Everything it wrote to stdout and stderr so far. */
  log(): string;
  /** Sends SIGTERM and waits for a clean exit; returns the exit code. */
  stop(): Promise<number>;
  /** Sends SIGKILL and waits. */
  kill(): Promise<void>;
}

/** Options of {@link startUntilReady}. */
export interface StartUntilReadyOptions {
  /** The program's name in errors, e.g. "bank". */
  label: string;
  /** The arguments after the Deno executable, run from the repository root. */
  args: string[];
  /** Matched against all output so far; its first capture group becomes `ready`. */
  readyPattern: RegExp;
  /** How long to wait for the ready line. */
  timeoutMs: number;
}

/**
 * Starts `deno <args>` from the repository root, as an operator would, and waits until its output
 * shows the ready line.
 *
 * @param options The command, its ready line and how long to wait for it.
 * @returns The running process.
 * @throws {Error} When it exits or does not print the line in time (it is killed); the error holds
 * its output.
 */
export async function startUntilReady(options: StartUntilReadyOptions): Promise<ReadyProcess> {
  const { label, timeoutMs } = options;
  const child = new Deno.Command(Deno.execPath(), {
    args: options.args,
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let text = "";
  const ready = Promise.withResolvers<string>();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      const match = text.match(options.readyPattern);
      if (match) ready.resolve(match[1]);
    }
  };
  const readers = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const exited = child.status.then((status) => {
    ready.reject(new Error(`${label} exited with ${status.code} before it was ready:\n${text}`));
    return status;
  });
  const timer = setTimeout(
    () => ready.reject(new Error(`${label} was not ready within ${timeoutMs} ms:\n${text}`)),
    timeoutMs,
  );
  let line: string;
  try {
    line = await ready.promise;
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await exited;
    await readers;
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    ready: line,
    log: () => text,
    async stop() {
      child.kill("SIGTERM");
      const status = await exited;
      await readers;
      return status.code;
    },
    async kill() {
      child.kill("SIGKILL");
      await exited;
      await readers;
    },
  };
}

/**
 * Starts `bank serve --port 0` on a data directory and waits until it listens.
 *
 * @param dataDir The data directory (created by the bank if empty).
 * @param extraArgs More `serve` flags.
 * @returns The running bank.
 * @throws {Error} When the bank exits or does not listen in time; the error holds its log.
 */
export async function startBankProcess(
  dataDir: string,
  extraArgs: string[] = [],
): Promise<BankProcess> {
  const { ready, log, stop, kill } = await startUntilReady({
    label: "bank",
    args: bankServeArgs(dataDir, extraArgs),
    readyPattern: /listening address=[^\s]*:(\d+)/,
    timeoutMs: BANK_START_TIMEOUT_MS,
  });
  return { port: Number(ready), dataDir, log, stop, kill };
}
