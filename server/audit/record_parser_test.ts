import assert from "node:assert/strict";
import { EPOCH_MAX, EVENT_BYTES_MAX, IV_BYTES, MAC_BYTES } from "./constants.ts";
import { formatRecordLine, GENESIS_MAC, macInput, parseRecordLine } from "./record_format.ts";
import { parseCanonicalRecord, RecordSlab } from "./record_parser.ts";

const ENCODER = new TextEncoder();
const SLAB = new RecordSlab();

/** A small seeded generator (xorshift32), so a failing case can be replayed. */
function prng(seed: number): (limit: number) => number {
  let state = seed >>> 0 || 1;
  return (limit) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % limit;
  };
}

function randomBytes(length: number, next: (limit: number) => number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length }, () => next(256));
}

function randomLine(next: (limit: number) => number): string {
  const seqs = [1, 9, 10, 258, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER];
  const epochs = [0, 1, 9, 10, 65_535, EPOCH_MAX];
  return formatRecordLine({
    seq: seqs[next(seqs.length)],
    epoch: epochs[next(epochs.length)],
    iv: randomBytes(IV_BYTES, next),
    ct: randomBytes(IV_BYTES * (1 + next(20)), next),
    mac: randomBytes(MAC_BYTES, next),
  }).slice(0, -1);
}

/** Parses `text` from the middle of a larger buffer, as a reader finds it. */
function fast(text: string) {
  const bytes = ENCODER.encode(`xx\n${text}\nyy`);
  return parseCanonicalRecord(bytes, 3, bytes.length - 3, SLAB);
}

/** The fast path accepts a line only when the reference does, with the same values. */
function assertAgrees(text: string): void {
  const reference = parseRecordLine(text);
  const view = fast(text);
  if (view === null) {
    assert.equal(typeof reference, "string", `refused a line the reference accepts: ${text}`);
    return;
  }
  assert.ok(typeof reference !== "string", `accepted ${JSON.stringify(text)}: ${reference}`);
  assert.equal(view.seq, reference.seq);
  assert.equal(view.epoch, reference.epoch);
  assert.deepEqual(view.iv, reference.iv);
  assert.deepEqual(view.ct, reference.ct);
  assert.deepEqual(view.mac, reference.mac);
  assert.deepEqual(view.macInput, macInput(reference, GENESIS_MAC));
}

Deno.test("parseCanonicalRecord() reads what formatRecordLine() writes, MAC input included", () => {
  const next = prng(1);
  for (let i = 0; i < 500; i++) assertAgrees(randomLine(next));
});

Deno.test("parseCanonicalRecord() refuses the largest ciphertext plus one block", () => {
  const next = prng(2);
  const record = {
    seq: 1,
    epoch: 0,
    iv: randomBytes(IV_BYTES, next),
    ct: randomBytes(EVENT_BYTES_MAX + IV_BYTES, next),
    mac: randomBytes(MAC_BYTES, next),
  };
  assert.notEqual(fast(formatRecordLine(record).slice(0, -1)), null);
  const over = { ...record, ct: randomBytes(EVENT_BYTES_MAX + 2 * IV_BYTES, next) };
  assert.equal(fast(formatRecordLine(over).slice(0, -1)), null);
});

Deno.test("parseCanonicalRecord() refuses every layout but the canonical one", () => {
  const line = randomLine(prng(3));
  const record = JSON.parse(line);
  const layouts = [
    line.replace('"epoch":', '"epoch": '),
    `${line} `,
    ` ${line}`,
    `${line}\r`,
    line.replace(/"seq":(\d+)/, '"seq":0$1'),
    line.replace(/"epoch":(\d+)/, '"epoch":0$1'),
    line.replace(/"seq":(\d+)/, '"seq":$1.0'),
    line.replace(/"seq":(\d+)/, '"seq":-$1'),
    line.replace('"seq":', '"seq":"').replace(',"epoch"', '","epoch"'),
    line.replace('"iv":"', '"\\u0069v":"'),
    line.replace(record.ct, `${record.ct}==`),
    line.replace(record.mac, `${record.mac.slice(0, 10)}\\/${record.mac.slice(10)}`),
  ];
  for (const layout of layouts) {
    assert.equal(fast(layout), null, layout);
    assertAgrees(layout);
  }
  assert.equal(fast("{}"), null);
  assert.equal(fast(""), null);
});

Deno.test("parseCanonicalRecord() agrees with parseRecordLine() on 20,000 edited lines", () => {
  const next = prng(4);
  const alphabet = '0123456789AZaz-_+/="{}:,. \\\n\x00é';
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    let text = randomLine(next);
    for (let edits = 1 + next(3); edits > 0; edits--) {
      const at = next(text.length + 1);
      const char = alphabet[next(alphabet.length)];
      const kind = next(3);
      if (kind === 0) text = text.slice(0, at) + char + text.slice(at + 1);
      else if (kind === 1) text = text.slice(0, at) + char + text.slice(at);
      else text = text.slice(0, at) + text.slice(at + 1);
    }
    assertAgrees(text);
    if (fast(text) !== null) accepted++;
  }
  assert.ok(
    accepted > 1_000,
    `only ${accepted} edited lines stayed valid: the edits test too little`,
  );
});
