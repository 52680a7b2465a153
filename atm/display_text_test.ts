import { assertEquals } from "./_test_assert.ts";
import { BANK_MESSAGE_CHARS_MAX } from "./constants.ts";
import { cleanBankText } from "./display_text.ts";

Deno.test("cleanBankText() replaces terminal control sequences with a space", () => {
  assertEquals(cleanBankText("Paid\u001b[31m\r\nok\u009b"), "Paid [31m ok");
  assertEquals(cleanBankText("plain words"), "plain words");
});

Deno.test("cleanBankText() bounds the length", () => {
  const shown = cleanBankText("x".repeat(BANK_MESSAGE_CHARS_MAX * 2));
  assertEquals(shown.length, BANK_MESSAGE_CHARS_MAX);
  assertEquals(shown.endsWith("…"), true);
});
