import assert from "node:assert/strict";
import { AUDIT_EXIT, type AuditCommandOptions, runAuditCommand } from "./audit_command.ts";
import { loadEpochState } from "./audit_keys.ts";
import { ChainMac } from "./chain_mac.ts";
import { PATHS, PROGRESS_BYTES_MIN } from "./constants.ts";
import { formatRecordLine, type LogRecord, macInput, parseRecordLine } from "./record_format.ts";
import {
  allEvents,
  flipBase64,
  makeAuditDir,
  readLines,
  SMALL_FILE_BYTES,
  withField,
  writeEvents,
  writeLines,
} from "./_test_support.ts";

/** Runs the command body with in-memory streams. */
async function run(
  options: AuditCommandOptions,
  terminal = false,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const sink = () => {
    const chunks: Uint8Array[] = [];
    const stream = new WritableStream<Uint8Array>({ write: (chunk) => void chunks.push(chunk) });
    const text = () => new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
    return { stream, text };
  };
  const out = sink();
  const err = sink();
  const code = await runAuditCommand(options, {
    stdout: out.stream,
    stderr: err.stream,
    stderrIsTerminal: terminal,
  });
  return { code, stdout: out.text(), stderr: err.text() };
}

/**
 * MACs a one-epoch log's records again from `from` on, with the server's epoch key, as someone
 * holding the MAC keys could, and writes them back.
 */
async function remac(dir: string, records: LogRecord[], from: number): Promise<void> {
  const { secret } = await loadEpochState(`${dir}/${PATHS.epochKey}`);
  const mac = await ChainMac.forEpoch(secret);
  secret.fill(0);
  for (let i = from; i < records.length; i++) {
    records[i].mac = mac.sign(macInput(records[i], records[i - 1].mac));
  }
  await writeLines(dir, records.map((record) => formatRecordLine(record).trimEnd()));
}

Deno.test("runAuditCommand() --verify prints the summary and exits 0 for an intact log", async () => {
  const t = await makeAuditDir();
  try {
    const head = await writeEvents(t.dir, 12);
    const result = await run({ dataDir: t.dir, verify: true, ledgerHead: head });
    assert.equal(result.code, AUDIT_EXIT.ok, result.stderr);
    const lines = result.stdout.trimEnd().split("\n");
    assert.deepEqual(lines.map((l) => l.split(/\s+/)[0]), [
      "records",
      "files",
      "span",
      "epochs",
      "MACs",
      "result",
    ]);
    assert.equal(lines[0], "records  12");
    assert.equal(lines[1], "files    1");
    assert.match(lines[2], /^span {5}\d{4}-\d\d-\d\dT.* \.\. \d{4}-\d\d-\d\dT/);
    assert.equal(lines[3], "epochs   1 (0..0)");
    assert.equal(lines[4], "MACs     every record");
    assert.equal(lines[5], "result   OK");
    assert.equal(result.stderr, "");
  } finally {
    await t.cleanup();
  }
});

Deno.test("runAuditCommand() --verify names the file, line and problem and exits 1", async () => {
  const t = await makeAuditDir();
  try {
    await writeEvents(t.dir, 12);
    const lines = await readLines(t.dir);
    lines[4] = withField(lines[4], "ct", flipBase64(JSON.parse(lines[4]).ct));
    await writeLines(t.dir, lines);
    const result = await run({ dataDir: t.dir, verify: true });
    assert.equal(result.code, AUDIT_EXIT.problem);
    assert.match(result.stdout, /^records {2}4$/m);
    assert.match(
      result.stdout,
      /^result {3}FAILED: audit\/audit-000001\.jsonl\.enc line 5: bad_mac: MAC of record seq 5 does not verify$/m,
    );
  } finally {
    await t.cleanup();
  }
});

Deno.test("runAuditCommand() --verify with the offline key says every epoch was checked", async () => {
  const t = await makeAuditDir();
  try {
    await writeEvents(t.dir, 1500, { rotateBytes: SMALL_FILE_BYTES, batch: 100 });
    const plain = await run({ dataDir: t.dir, verify: true });
    assert.match(plain.stdout, /^MACs {5}\d+ of 1500 records; older epochs need --offline-key$/m);
    const offline = await run({ dataDir: t.dir, verify: true, offlineKey: t.offlineKey });
    assert.equal(offline.code, AUDIT_EXIT.ok);
    assert.match(offline.stdout, /^MACs {5}every epoch \(offline key\)$/m);
    assert.match(offline.stdout, /^epochs {3}(\d+) \(0\.\.\d+\)$/m);
  } finally {
    await t.cleanup();
  }
});

Deno.test("runAuditCommand() --decrypt prints one JSON event per line", async () => {
  const t = await makeAuditDir();
  try {
    await writeEvents(t.dir, 9);
    const result = await run({ dataDir: t.dir, decrypt: true });
    assert.equal(result.code, AUDIT_EXIT.ok, result.stderr);
    const events = result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(events.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const alice = await run({ dataDir: t.dir, decrypt: true, user: "alice" });
    const customers = alice.stdout.trimEnd().split("\n").map((l) => JSON.parse(l).customer);
    assert.deepEqual(customers, ["alice", "alice", "alice"]);
  } finally {
    await t.cleanup();
  }
});

Deno.test("runAuditCommand() --decrypt --pretty prints an aligned table", async () => {
  const t = await makeAuditDir();
  try {
    await writeEvents(t.dir, 12);
    const result = await run({ dataDir: t.dir, decrypt: true, pretty: true });
    assert.equal(result.code, AUDIT_EXIT.ok);
    const rows = result.stdout.trimEnd().split("\n");
    assert.equal(rows.length, 13);
    assert.match(rows[0], /^ {4}SEQ {2}TIME {22}TYPE {19}CUSTOMER {10}DETAILS$/);
    const timeAt = rows[0].indexOf("TIME");
    const customerAt = rows[0].indexOf("CUSTOMER");
    for (const row of rows.slice(1)) {
      assert.match(row.slice(timeAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}tx /);
      assert.match(row.slice(customerAt), /^(alice|bob|carol) +op=deposit amountCents=\d+/);
    }
  } finally {
    await t.cleanup();
  }
});

Deno.test("runAuditCommand() --decrypt prints what verified, then the problem, and exits 1", async () => {
  const t = await makeAuditDir();
  try {
    await writeEvents(t.dir, 12);
    const lines = await readLines(t.dir);
    lines.splice(6, 1);
    await writeLines(t.dir, lines);
    const result = await run({ dataDir: t.dir, decrypt: true });
    assert.equal(result.code, AUDIT_EXIT.problem);
    assert.equal(result.stdout.trimEnd().split("\n").length, 6);
    assert.equal(
      result.stderr,
      "audit: audit/audit-000001.jsonl.enc line 7: bad_sequence: Record has seq 8, expected 7\n",
    );
  } finally {
    await t.cleanup();
  }
});

Deno.test("runAuditCommand() --decrypt warns about records of epochs it could not check", async () => {
  const t = await makeAuditDir();
  try {
    await writeEvents(t.dir, 1500, { rotateBytes: SMALL_FILE_BYTES, batch: 100 });
    const result = await run({ dataDir: t.dir, decrypt: true });
    assert.equal(result.code, AUDIT_EXIT.ok);
    assert.match(result.stderr, /^audit: warning: the MACs of \d+ records \(epochs up to \d+\)/);
    assert.match(result.stderr, /--offline-key FILE/);
  } finally {
    await t.cleanup();
  }
});

Deno.test("runAuditCommand() --decrypt prints each event as JSON.stringify writes it, checked or not", async () => {
  const t = await makeAuditDir();
  try {
    await writeEvents(t.dir, 1500, { rotateBytes: SMALL_FILE_BYTES, batch: 100 });
    const events = await allEvents(t.dir, t.offlineKey);
    const expected = events.map((event) => `${JSON.stringify(event)}\n`).join("");
    // with the offline key every text is the writer's, printed as decrypted; without it the old
    // epochs' records are unchecked and stringified again: the same bytes either way
    const checked = await run({ dataDir: t.dir, decrypt: true, offlineKey: t.offlineKey });
    assert.equal(checked.stdout, expected);
    const unchecked = await run({ dataDir: t.dir, decrypt: true });
    assert.match(unchecked.stderr, /warning: the MACs of \d+ records/);
    assert.equal(unchecked.stdout, expected);
  } finally {
    await t.cleanup();
  }
});

Deno.test("runAuditCommand() --decrypt names a master key of another bank and prints nothing", async () => {
  const t = await makeAuditDir();
  const other = await makeAuditDir();
  try {
    await writeEvents(t.dir, 12);
    // the MACs still verify (the epoch key is this log's), but nothing decrypts to its event
    await Deno.copyFile(`${other.dir}/${PATHS.masterKey}`, `${t.dir}/${PATHS.masterKey}`);
    for (const filters of [{}, { user: "alice" }]) {
      const result = await run({ dataDir: t.dir, decrypt: true, ...filters });
      assert.equal(result.code, AUDIT_EXIT.problem);
      assert.equal(result.stdout, "");
      assert.equal(
        result.stderr,
        "audit: audit/audit-000001.jsonl.enc line 1: wrong_key: Record seq 1 does not decrypt to an event\n",
      );
    }
  } finally {
    await t.cleanup();
    await other.cleanup();
  }
});

Deno.test("runAuditCommand() --decrypt refuses an authentic record whose event carries another seq", async () => {
  const t = await makeAuditDir();
  try {
    await writeEvents(t.dir, 6);
    // what only a holder of the MAC key can do: records 3 and 4 swap events and are MACed again
    const records = (await readLines(t.dir)).map((line) => parseRecordLine(line) as LogRecord);
    [records[2].ct, records[3].ct] = [records[3].ct, records[2].ct];
    [records[2].iv, records[3].iv] = [records[3].iv, records[2].iv];
    await remac(t.dir, records, 2);
    assert.equal((await run({ dataDir: t.dir, verify: true })).code, AUDIT_EXIT.ok);
    for (const filters of [{}, { user: "alice" }]) {
      const result = await run({ dataDir: t.dir, decrypt: true, ...filters });
      assert.equal(result.code, AUDIT_EXIT.problem);
      assert.equal(
        result.stderr,
        "audit: audit/audit-000001.jsonl.enc line 3: bad_sequence: Encrypted event carries seq 4, record has 3\n",
      );
    }
  } finally {
    await t.cleanup();
  }
});

Deno.test("runAuditCommand() --decrypt refuses a record edited through CBC and MACed again", async () => {
  const t = await makeAuditDir();
  try {
    await writeEvents(t.dir, 6);
    // what a holder of the MAC keys without the master key can do: flipping a ciphertext bit
    // garbles one plaintext block and flips the same bit in the next; then the chain is MACed again
    const records = (await readLines(t.dir)).map((line) => parseRecordLine(line) as LogRecord);
    records[2].ct[16] ^= 0x01;
    await remac(t.dir, records, 2);
    assert.equal((await run({ dataDir: t.dir, verify: true })).code, AUDIT_EXIT.ok);
    const result = await run({ dataDir: t.dir, decrypt: true });
    assert.equal(result.code, AUDIT_EXIT.problem);
    assert.equal(result.stdout.trimEnd().split("\n").length, 2);
    assert.match(result.stderr, /line 3: \w+: Record seq 3 does not decrypt to an event/);
  } finally {
    await t.cleanup();
  }
});

Deno.test("runAuditCommand() refuses bad flag combinations with exit 2", async () => {
  const cases: [Partial<AuditCommandOptions>, RegExp][] = [
    [{}, /exactly one of --decrypt or --verify/],
    [{ decrypt: true, verify: true }, /exactly one of --decrypt or --verify/],
    [{ verify: true, pretty: true }, /go with --decrypt/],
    [{ verify: true, user: "alice" }, /go with --decrypt/],
    [{ decrypt: true, since: "yesterday" }, /--since: not an ISO time/],
    [{ decrypt: true, user: "" }, /--user: empty name/],
  ];
  for (const [flags, message] of cases) {
    const result = await run({ dataDir: "/nonexistent", ...flags });
    assert.equal(result.code, AUDIT_EXIT.usage, JSON.stringify(flags));
    assert.match(result.stderr, message);
    assert.equal(result.stdout, "");
  }
});

Deno.test("runAuditCommand() draws a progress bar only on a terminal and only for large logs", async () => {
  const t = await makeAuditDir();
  try {
    const small = await writeEvents(t.dir, 10);
    assert.equal((await run({ dataDir: t.dir, verify: true, ledgerHead: small }, true)).stderr, "");
    const head = await writeEvents(t.dir, 16_000, { batch: 2_000, first: 11 });
    const size = Deno.statSync(`${t.dir}/audit/audit-000001.jsonl.enc`).size;
    assert.ok(size >= PROGRESS_BYTES_MIN, `log is ${size} bytes`);
    const terminal = await run({ dataDir: t.dir, verify: true, ledgerHead: head }, true);
    assert.equal(terminal.code, AUDIT_EXIT.ok);
    assert.match(terminal.stderr, /^\r\[[#.]{30}\] +\d+% /);
    assert.match(terminal.stderr, /\r\[#{30}\] 100% [\d.]+\/[\d.]+ MiB/);
    assert.ok(terminal.stderr.endsWith("\r\x1b[K"), "the bar is cleared before the summary");
    const piped = await run({ dataDir: t.dir, verify: true, ledgerHead: head }, false);
    assert.equal(piped.stderr, "");
  } finally {
    await t.cleanup();
  }
});
