import assert from "node:assert/strict";
import { AuditError } from "./audit_error.ts";
import { LINE_BYTES_MAX, READ_CHUNK_BYTES } from "./constants.ts";
import { LineReader } from "./line_reader.ts";

/** Reads every line of `content` through a LineReader over a real file. */
async function readAll(content: string): Promise<{ lines: string[]; reader: LineReader }> {
  const path = await Deno.makeTempFile({ prefix: "line-reader-test-" });
  try {
    await Deno.writeTextFile(path, content);
    using file = await Deno.open(path);
    const reader = new LineReader({ file, name: "test", bytes: content.length, onBytes: () => {} });
    const lines: string[] = [];
    for (;;) {
      const line = reader.next();
      if (line !== null) {
        assert.equal(line.number, lines.length + 1);
        lines.push(reader.text(line));
      } else if (!await reader.fill()) {
        return { lines, reader };
      }
    }
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("LineReader returns every line across chunk boundaries, with a torn tail apart", async () => {
  const expected: string[] = [];
  let bytes = 0;
  for (let i = 0; bytes < 3 * READ_CHUNK_BYTES; i++) {
    const line = String(i).repeat(1 + ((i * 7919) % 9_000)).slice(0, LINE_BYTES_MAX);
    expected.push(line);
    bytes += line.length + 1;
  }
  const tail = "partial";
  const { lines, reader } = await readAll(`${expected.join("\n")}\n${tail}`);
  assert.deepEqual(lines, expected);
  assert.equal(reader.lineCount, expected.length);
  assert.equal(reader.completeBytes, bytes);
  assert.equal(reader.tailBytes, tail.length);
});

Deno.test("LineReader accepts a line of LINE_BYTES_MAX and refuses one byte more", async () => {
  const longest = "a".repeat(LINE_BYTES_MAX);
  assert.deepEqual((await readAll(`x\n${longest}\n`)).lines, ["x", longest]);
  for (const content of [`x\ny\n${longest}b\n`, `x\ny\n${longest}b`]) {
    await assert.rejects(
      () => readAll(content),
      (error) => error instanceof AuditError && error.code === "malformed" && error.line === 3,
    );
  }
});
