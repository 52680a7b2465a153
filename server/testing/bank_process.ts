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
  const child = new Deno.Command(Deno.execPath(), {
    args: bankServeArgs(dataDir, extraArgs),
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let text = "";
  const listening = Promise.withResolvers<number>();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      const match = text.match(/listening address=[^\s]*:(\d+)/);
      if (match) listening.resolve(Number(match[1]));
    }
  };
  const readers = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const exited = child.status.then((status) => {
    listening.reject(new Error(`bank exited with ${status.code} before listening:\n${text}`));
    return status;
  });
  const timer = setTimeout(
    () =>
      listening.reject(
        new Error(`bank did not listen within ${BANK_START_TIMEOUT_MS} ms:\n${text}`),
      ),
    BANK_START_TIMEOUT_MS,
  );
  let port: number;
  try {
    port = await listening.promise;
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
    port,
    dataDir,
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
