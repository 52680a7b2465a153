/**
 * The audit log's baseline, run as its own process like `bank audit`: read a file of plaintext
 * JSON Lines and parse every line, in bounded memory, as a straightforward reader would.
 *
 * Usage: `deno run --allow-read=FILE bench/baselines/plain_lines.ts FILE`; prints `lines=N`.
 *
 * @module
 */

/** Bytes read per call. */
const READ_CHUNK_BYTES = 256 * 1024;

/**
 * Reads and parses every line of a JSON Lines file.
 *
 * @param path The file.
 * @returns The number of lines parsed.
 * @throws {SyntaxError} On a line that is not JSON.
 */
export async function readAndParseLines(path: string): Promise<number> {
  using file = await Deno.open(path);
  const buffer = new Uint8Array(READ_CHUNK_BYTES);
  const decoder = new TextDecoder();
  let carry = "";
  let lines = 0;
  while (true) {
    const n = await file.read(buffer);
    if (n === null) break;
    const text = carry + decoder.decode(buffer.subarray(0, n), { stream: true });
    let start = 0;
    for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
      JSON.parse(text.slice(start, end));
      lines++;
      start = end + 1;
    }
    carry = text.slice(start);
  }
  carry += decoder.decode();
  if (carry.length > 0) {
    JSON.parse(carry);
    lines++;
  }
  return lines;
}

if (import.meta.main) {
  const [path] = Deno.args;
  if (!path) {
    console.error("Usage: plain_lines.ts FILE");
    Deno.exit(2);
  }
  console.log(`lines=${await readAndParseLines(path)}`);
}
