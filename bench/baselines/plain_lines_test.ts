import { assertEquals, assertRejects } from "../../lib/_test_assert.ts";
import { readAndParseLines } from "./plain_lines.ts";

Deno.test("readAndParseLines() counts JSON lines split across read chunks", async () => {
  const path = await Deno.makeTempFile();
  try {
    const line = JSON.stringify({ type: "tx", customer: "cust-00001", note: "é".repeat(50) });
    // About 1 MB: several 256 KiB reads, with lines and characters split between them.
    await Deno.writeTextFile(path, `${line}\n`.repeat(8_000));
    assertEquals(await readAndParseLines(path), 8_000);
    await Deno.writeTextFile(path, `${line}\n${line}`); // no final newline
    assertEquals(await readAndParseLines(path), 2);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("readAndParseLines() throws on a line that is not JSON", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(path, '{"a":1}\nnot json\n');
    await assertRejects(() => readAndParseLines(path), SyntaxError);
  } finally {
    await Deno.remove(path);
  }
});
