import assert from "node:assert/strict";
import { PATHS } from "./constants.ts";
import { decryptAudit, decryptAuditLines } from "./decrypt.ts";
import { verifyAudit, type VerifyReport } from "./verify.ts";
import {
  flipBase64,
  logPath,
  makeAuditDir,
  readLines,
  SMALL_FILE_BYTES,
  type TestDir,
  withField,
  writeEvents,
  writeLines,
} from "./_test_support.ts";

/** Both places MACs are checked: this thread and a worker thread. */
const MODES = [false, true];

/** Verifies in both modes and checks that the reports are the same; returns that report. */
async function verifyBothWays(
  options: { dataDir: string; offlineKeyPath?: string },
): Promise<VerifyReport> {
  const onThread = await verifyAudit({ ...options, macWorker: false });
  const onWorker = await verifyAudit({ ...options, macWorker: true });
  assert.deepEqual(onWorker, onThread, "the worker's report differs");
  return onThread;
}

/** A log of several files and epochs, 1,500 records. */
async function withLongLog(test: (t: TestDir) => Promise<void>): Promise<void> {
  const t = await makeAuditDir();
  try {
    await writeEvents(t.dir, 1500, { rotateBytes: SMALL_FILE_BYTES, batch: 100 });
    await test(t);
  } finally {
    await t.cleanup();
  }
}

Deno.test("verifyAudit() on a MAC worker reports what it reports on this thread", async () => {
  await withLongLog(async (t) => {
    const intact = await verifyBothWays({ dataDir: t.dir, offlineKeyPath: t.offlineKey });
    assert.equal(intact.ok, true, JSON.stringify(intact.problem));
    assert.equal(intact.records, 1500);
    const partly = await verifyBothWays({ dataDir: t.dir });
    assert.ok(partly.uncheckedRecords > 0, "older epochs are unchecked without the offline key");

    const lines = await readLines(t.dir);
    const edited = [...lines];
    edited[40] = withField(lines[40], "ct", flipBase64(JSON.parse(lines[40]).ct));
    await writeLines(t.dir, edited);
    const badMac = await verifyBothWays({ dataDir: t.dir, offlineKeyPath: t.offlineKey });
    assert.equal(badMac.problem?.code, "bad_mac");
    assert.equal(badMac.problem?.line, 41);
    assert.equal(badMac.records, 40);

    await writeLines(t.dir, [...lines.slice(0, 30), ...lines.slice(31)]);
    const gap = await verifyBothWays({ dataDir: t.dir, offlineKeyPath: t.offlineKey });
    assert.equal(gap.problem?.code, "bad_sequence");

    await writeLines(t.dir, lines);
    const bytes = await Deno.readFile(logPath(t.dir));
    await Deno.writeFile(logPath(t.dir), bytes.subarray(0, bytes.length - 9));
    const cut = await verifyBothWays({ dataDir: t.dir, offlineKeyPath: t.offlineKey });
    assert.equal(cut.problem?.code, "malformed"); // the first file must end with a newline
  });
});

Deno.test("verifyAudit() on a MAC worker reports the first problem past several read chunks", async () => {
  const t = await makeAuditDir();
  try {
    // one file of about 1 MB: four read chunks, the MACs of each checked while the next is read
    await writeEvents(t.dir, 3000, { batch: 500 });
    const lines = await readLines(t.dir);
    assert.equal((await verifyBothWays({ dataDir: t.dir })).records, 3000);
    const edited = [...lines];
    edited[1999] = withField(lines[1999], "ct", flipBase64(JSON.parse(lines[1999]).ct));
    edited.splice(2500, 1); // a later problem, which must not be the one reported
    await writeLines(t.dir, edited);
    const report = await verifyBothWays({ dataDir: t.dir });
    assert.equal(report.problem?.code, "bad_mac");
    assert.equal(report.problem?.line, 2000);
    assert.equal(report.records, 1999);
  } finally {
    await t.cleanup();
  }
});

Deno.test("verifyAudit() on a MAC worker names a foreign or unusable key as on this thread", async () => {
  const other = await makeAuditDir();
  try {
    await withLongLog(async (t) => {
      const foreign = await verifyBothWays({ dataDir: t.dir, offlineKeyPath: other.offlineKey });
      assert.equal(foreign.problem?.code, "wrong_key");

      const epochKey = `${t.dir}/${PATHS.epochKey}`;
      await Deno.chmod(epochKey, 0o644);
      const exposed = await verifyBothWays({ dataDir: t.dir });
      assert.equal(exposed.problem?.code, "insecure_key_file");

      await Deno.remove(epochKey);
      const missing = await verifyBothWays({ dataDir: t.dir });
      assert.equal(missing.problem?.code, "missing_key");
    });
  } finally {
    await other.cleanup();
  }
});

Deno.test("decryptAudit() and decryptAuditLines() on a MAC worker give the same events", async () => {
  await withLongLog(async (t) => {
    const decoder = new TextDecoder();
    for (const offlineKeyPath of [t.offlineKey, undefined]) {
      const results = [];
      for (const macWorker of MODES) {
        const events = [];
        for await (const event of decryptAudit({ dataDir: t.dir, offlineKeyPath, macWorker })) {
          events.push(event);
        }
        let text = "";
        const lines = decryptAuditLines({ dataDir: t.dir, offlineKeyPath, macWorker });
        for (let next = await lines.next(); !next.done; next = await lines.next()) {
          text += decoder.decode(next.value);
        }
        results.push({ events, text });
      }
      assert.equal(results[0].events.length, 1500);
      assert.deepEqual(results[1], results[0]);
      assert.equal(
        results[0].text,
        results[0].events.map((e) => `${JSON.stringify(e)}\n`).join(""),
      );
    }
  });
});

/** Files below `dir` that this process holds open (Linux). */
function openFilesBelow(dir: string): string[] {
  return [...Deno.readDirSync("/proc/self/fd")].flatMap((entry) => {
    try {
      const target = Deno.readLinkSync(`/proc/self/fd/${entry.name}`);
      return target.startsWith(dir) ? [target] : [];
    } catch {
      return []; // closed while listed
    }
  });
}

Deno.test("a reader stopped early closes its log file", async () => {
  await withLongLog(async (t) => {
    for (const macWorker of MODES) {
      let seen = 0;
      for await (const _ of decryptAudit({ dataDir: t.dir, macWorker })) {
        if (++seen === 10) break;
      }
      const lines = decryptAuditLines({ dataDir: t.dir, macWorker });
      assert.equal((await lines.next()).done, false);
      await lines.return(undefined!);
    }
    assert.deepEqual(openFilesBelow(t.dir), [], "a log file was left open");
  });
});

Deno.test("a process whose reader stopped early on a MAC worker exits by itself", async () => {
  await withLongLog(async (t) => {
    const script = `${t.dir}/stop_early.ts`;
    const decrypt = new URL("./decrypt.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { decryptAudit } from ${JSON.stringify(decrypt)};
for await (const _ of decryptAudit({ dataDir: ${JSON.stringify(t.dir)}, macWorker: true })) break;
console.log("stopped");
`,
    );
    // a worker left running keeps a process alive: it would be killed at the timeout
    const { code, stdout } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "-A", script],
      stdout: "piped",
      stderr: "inherit",
      signal: AbortSignal.timeout(STOP_EARLY_TIMEOUT_MS),
    }).output();
    assert.equal(new TextDecoder().decode(stdout), "stopped\n");
    assert.equal(code, 0, "the process did not exit by itself");
  });
});

/** Long enough for a process to start, read a little and exit on a loaded machine. */
const STOP_EARLY_TIMEOUT_MS = 30_000;
