import assert from "node:assert/strict";
import {
  formatRecordLine,
  GENESIS_MAC,
  macInput,
  parseRecordLine,
  recordLineBytes,
} from "./record_format.ts";
import { IV_BYTES, MAC_BYTES } from "./constants.ts";

function bytes(length: number, fill: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(length).fill(fill);
}

const RECORD = {
  seq: 258,
  epoch: 3,
  iv: bytes(IV_BYTES, 0x11),
  ct: bytes(32, 0x22),
  mac: bytes(MAC_BYTES, 0x33),
};

Deno.test("macInput() lays out label, seq, epoch, IV, length, ciphertext and previous MAC", () => {
  const previous = bytes(MAC_BYTES, 0x44);
  const input = macInput(RECORD, previous);
  const label = new TextEncoder().encode("bank-audit-line-v1");
  assert.equal(input.length, 18 + 8 + 4 + 16 + 4 + 32 + 32);
  assert.deepEqual(input.subarray(0, 18), label);
  assert.deepEqual([...input.subarray(18, 26)], [0, 0, 0, 0, 0, 0, 1, 2], "seq, big-endian u64");
  assert.deepEqual([...input.subarray(26, 30)], [0, 0, 0, 3], "epoch, big-endian u32");
  assert.deepEqual(input.subarray(30, 46), RECORD.iv);
  assert.deepEqual([...input.subarray(46, 50)], [0, 0, 0, 32], "ciphertext length, u32");
  assert.deepEqual(input.subarray(50, 82), RECORD.ct);
  assert.deepEqual(input.subarray(82), previous);
});

Deno.test("macInput() differs when any covered value differs", () => {
  const base = macInput(RECORD, GENESIS_MAC);
  const variants = [
    macInput({ ...RECORD, seq: 259 }, GENESIS_MAC),
    macInput({ ...RECORD, epoch: 4 }, GENESIS_MAC),
    macInput({ ...RECORD, iv: bytes(IV_BYTES, 0x12) }, GENESIS_MAC),
    macInput({ ...RECORD, ct: bytes(48, 0x22) }, GENESIS_MAC),
    macInput(RECORD, bytes(MAC_BYTES, 1)),
  ];
  for (const variant of variants) assert.notDeepEqual(variant, base);
});

Deno.test("macInput() throws RangeError for a wrong-size IV or previous MAC", () => {
  assert.throws(() => macInput({ ...RECORD, iv: bytes(8, 0) }, GENESIS_MAC), RangeError);
  assert.throws(() => macInput(RECORD, bytes(16, 0)), RangeError);
});

Deno.test("formatRecordLine() output parses back and has the predicted length", () => {
  const line = formatRecordLine(RECORD);
  assert.ok(line.endsWith("}\n"));
  assert.equal(
    line.length,
    recordLineBytes({ seq: RECORD.seq, epoch: RECORD.epoch, ctBytes: RECORD.ct.length }),
  );
  const parsed = parseRecordLine(line.slice(0, -1));
  assert.ok(typeof parsed !== "string", String(parsed));
  assert.equal(parsed.seq, RECORD.seq);
  assert.equal(parsed.epoch, RECORD.epoch);
  assert.deepEqual(parsed.iv, RECORD.iv);
  assert.deepEqual(parsed.ct, RECORD.ct);
  assert.deepEqual(parsed.mac, RECORD.mac);
});

Deno.test("parseRecordLine() names what is wrong with a malformed line", () => {
  const good = JSON.parse(formatRecordLine(RECORD));
  const cases: [string, string][] = [
    ["not json", "Line is not JSON"],
    ["[1,2]", "Line is not a JSON object"],
    [JSON.stringify({ ...good, extra: 1 }), "Record must have exactly seq, epoch, iv, ct, mac"],
    [JSON.stringify({ ...good, seq: 0 }), "Field seq is not a positive integer"],
    [JSON.stringify({ ...good, seq: "5" }), "Field seq is not a positive integer"],
    [JSON.stringify({ ...good, epoch: -1 }), "Field epoch is not a valid epoch number"],
    [JSON.stringify({ ...good, iv: 5 }), "Fields iv, ct and mac must be base64url strings"],
    [JSON.stringify({ ...good, iv: "AAAA" }), "Field iv is not 16 bytes of base64url"],
    [JSON.stringify({ ...good, ct: "AAAA" }), "Field ct is not an AES-CBC ciphertext in base64url"],
    [JSON.stringify({ ...good, mac: "AA==" }), "Field mac is not 32 bytes of base64url"],
  ];
  for (const [line, message] of cases) assert.equal(parseRecordLine(line), message, line);
});

Deno.test("parseRecordLine() refuses a line that is valid JSON but not the canonical layout", () => {
  const line = formatRecordLine(RECORD).slice(0, -1);
  const record = JSON.parse(line);
  assert.equal(typeof parseRecordLine(line), "object", "the canonical layout parses");
  const layouts = [
    line.replace('"epoch":', '"epoch": '),
    `${line} `,
    JSON.stringify({
      epoch: record.epoch,
      seq: record.seq,
      iv: record.iv,
      ct: record.ct,
      mac: record.mac,
    }),
    line.replace('"seq":258', '"seq":2.58e2'),
    line.replace('"iv":"', '"\\u0069v":"'),
  ];
  for (const layout of layouts) {
    assert.equal(parseRecordLine(layout), "Line is not in the canonical record layout", layout);
  }
});

Deno.test("parseRecordLine() refuses non-canonical base64url (padding, unused bits)", () => {
  const line = formatRecordLine(RECORD).slice(0, -1);
  const record = JSON.parse(line);
  const lastIv = record.iv.at(-1);
  const padded = line.replace(record.iv, `${record.iv}==`);
  const unusedBits = line.replace(record.iv, record.iv.slice(0, -1) + (lastIv === "R" ? "S" : "R"));
  assert.equal(parseRecordLine(padded), "Field iv is not 16 bytes of base64url");
  assert.equal(parseRecordLine(unusedBits), "Field iv is not 16 bytes of base64url");
});
