import { Readable } from "node:stream";
import { assertEquals } from "./_test_assert.ts";
import { INPUT_CHARS_MAX } from "./constants.ts";
import { linePrompter, openLineSource } from "./line_prompter.ts";

function prompterFor(input: string) {
  const written: string[] = [];
  const prompter = linePrompter({
    source: openLineSource(Readable.from([input])),
    write: (line) => written.push(line),
  });
  return { prompter, written };
}

const CHOICES = [
  { value: "balance", label: "Balance" },
  { value: "history", label: "Mini-statement" },
] as const;

Deno.test("linePrompter.choose() accepts a number or a label", async () => {
  const { prompter } = prompterFor("2\nbalance\nMINI-STATEMENT\n");
  assertEquals(await prompter.choose("Pick", CHOICES), "history");
  assertEquals(await prompter.choose("Pick", CHOICES), "balance");
  assertEquals(await prompter.choose("Pick", CHOICES), "history");
  assertEquals(await prompter.choose("Pick", CHOICES), null);
  prompter.close();
});

Deno.test("linePrompter.choose() explains a bad choice and asks again", async () => {
  const { prompter, written } = prompterFor("7\nnope\n1\n");
  assertEquals(await prompter.choose("Pick", CHOICES), "balance");
  const errors = written.filter((line) => line.startsWith("Error:"));
  assertEquals(errors.length, 2);
  prompter.close();
});

Deno.test("linePrompter.text() re-asks until the validator accepts, null at end of input", async () => {
  const { prompter, written } = prompterFor("abc\n12\n");
  const question = {
    message: "Number",
    validate: (text: string) => /^\d+$/.test(text) ? undefined : "Digits only",
  };
  assertEquals(await prompter.text(question), "12");
  assertEquals(written.includes("Error: Digits only"), true);
  assertEquals(await prompter.text(question), null);
  prompter.close();
});

Deno.test("linePrompter.secret() refuses an over-long line and never writes the answer", async () => {
  const long = "9".repeat(INPUT_CHARS_MAX + 1);
  const { prompter, written } = prompterFor(`${long}\n4321\n`);
  assertEquals(await prompter.secret({ message: "PIN" }), "4321");
  assertEquals(written.some((line) => line.includes("4321") || line.includes(long)), false);
  assertEquals(written.some((line) => line.includes(`at most ${INPUT_CHARS_MAX}`)), true);
  prompter.close();
});
