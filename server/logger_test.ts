import assert from "node:assert/strict";
import {
  formatLogLine,
  LOG_BATCH_CHARS_MAX,
  LOG_BATCH_DELAY_MS,
  type LogOutput,
  stderrLogger,
} from "./logger.ts";

/** A real file as the log output, and what it holds so far (without timestamps and levels). */
async function withLogFile(
  test: (output: LogOutput, read: () => string[]) => void | Promise<void>,
) {
  const path = await Deno.makeTempFile({ prefix: "logger_test_" });
  const file = await Deno.open(path, { write: true });
  try {
    await test(file, () => {
      const text = Deno.readTextFileSync(path);
      return text === "" ? [] : text.trimEnd().split("\n");
    });
  } finally {
    file.close();
    await Deno.remove(path);
  }
}

const stripTime = (line: string) => line.replace(/^\S+ /, "");

Deno.test("stderrLogger() writes info and warn lines at once, time and level first", async () => {
  await withLogFile((output, read) => {
    const logger = stderrLogger({ output });
    logger.info("bank", "listening", { address: "127.0.0.1:4000" });
    logger.warn("listener", "accept_failed", { error: "two words" });
    const lines = read();
    assert.deepEqual(lines.length, 2);
    assert.match(lines[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info bank: listening /);
    assert.deepEqual(stripTime(lines[1]), `WARN listener: accept_failed error="two words"`);
  });
});

Deno.test("stderrLogger() holds batched lines at most LOG_BATCH_DELAY_MS", async () => {
  await withLogFile(async (output, read) => {
    const logger = stderrLogger({ output });
    logger.infoBatched("session", "balance", { request: "r1" });
    logger.infoBatched("session", "deposit", { request: "r2" });
    assert.deepEqual(read(), []);
    await new Promise((resolve) => setTimeout(resolve, LOG_BATCH_DELAY_MS * 3));
    assert.deepEqual(read().map(stripTime), [
      "info session: balance request=r1",
      "info session: deposit request=r2",
    ]);
  });
});

Deno.test("stderrLogger() writes held lines before an info or warn line, in order", async () => {
  await withLogFile((output, read) => {
    const logger = stderrLogger({ output });
    logger.infoBatched("session", "balance", { request: "r1" });
    logger.warn("session", "internal_error", { request: "r2" });
    logger.infoBatched("session", "balance", { request: "r3" });
    logger.info("bank", "stopped");
    assert.deepEqual(read().map(stripTime), [
      "info session: balance request=r1",
      "WARN session: internal_error request=r2",
      "info session: balance request=r3",
      "info bank: stopped",
    ]);
  });
});

Deno.test("stderrLogger() writes held lines at once past LOG_BATCH_CHARS_MAX", async () => {
  await withLogFile((output, read) => {
    const logger = stderrLogger({ output });
    let count = 0;
    while (read().length === 0) {
      logger.infoBatched("session", "balance", { request: `r${count++}` });
      assert(count * 30 < LOG_BATCH_CHARS_MAX * 2, "batch never written");
    }
    assert.deepEqual(read().length, count);
    logger.flush();
  });
});

Deno.test("stderrLogger() writes lines longer than its buffer whole, multi-byte text intact", async () => {
  await withLogFile((output, read) => {
    const logger = stderrLogger({ output });
    const long = "é€".repeat(LOG_BATCH_CHARS_MAX);
    logger.infoBatched("session", "balance", { request: "r1" });
    logger.warn("session", "internal_error", { error: long });
    logger.flush();
    assert.deepEqual(read().map(stripTime), [
      "info session: balance request=r1",
      `WARN ${formatLogLine("session", "internal_error", { error: long })}`,
    ]);
  });
});

Deno.test("stderrLogger() survives a failing output and reports the lines it lost", async () => {
  await withLogFile(async (file, read) => {
    let broken = true;
    const output: LogOutput = {
      writeSync(bytes) {
        if (broken) throw new Deno.errors.BrokenPipe("log collector gone");
        return file.writeSync(bytes);
      },
    };
    const logger = stderrLogger({ output });
    logger.info("bank", "listening");
    logger.infoBatched("session", "balance", { request: "r1" });
    // the batch goes out from a timer: a throw there would end the process
    await new Promise((resolve) => setTimeout(resolve, LOG_BATCH_DELAY_MS * 3));
    assert.deepEqual(read(), []);
    broken = false;
    logger.warn("session", "internal_error", { request: "r2" });
    assert.deepEqual(read().map(stripTime), [
      "WARN logger: lines_lost count=2 error=BrokenPipe",
      "WARN session: internal_error request=r2",
    ]);
  });
});

Deno.test("stderrLogger() writes held lines when the process dies of an uncaught error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "logger_test_" });
  try {
    const script = `${dir}/crash.ts`;
    const logger = new URL("./logger.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { stderrLogger } from ${JSON.stringify(logger)};
const log = stderrLogger();
log.infoBatched("session", "balance", { request: "r1" });
setTimeout(() => { throw new Error("boom"); }, 0);
`,
    );
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", `--allow-read=${dir}`, script],
      stdout: "null",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    assert.notEqual(code, 0);
    const text = new TextDecoder().decode(stderr);
    assert.match(text, /^\S+ info session: balance request=r1$/m);
    assert.match(text, /boom/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
