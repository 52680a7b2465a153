/**
 * The {@link Prompter} for piped input: one answer per line, read with `node:readline` (clack
 * needs a terminal). Menus are numbered and accept the number or the label.
 *
 * @module
 */

import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { INPUT_CHARS_MAX } from "./constants.ts";
import type { Choice, Prompter, Question } from "./prompter.ts";

/** Where a {@link linePrompter} writes: questions and results, one line each. */
export type LineWriter = (line: string) => void;

/** Reads lines one at a time from a stream. */
export interface LineSource {
  /** The next line without its line break, or null at the end of input. */
  next(): Promise<string | null>;
  /** Stops reading. */
  close(): void;
}

/**
 * Opens a line source over a stream (usually `process.stdin`).
 *
 * @param input The stream to read.
 * @returns The source.
 */
export function openLineSource(input: Readable): LineSource {
  const lines = createInterface({ input, terminal: false, crlfDelay: Infinity });
  const iterator = lines[Symbol.asyncIterator]();
  return {
    async next() {
      const step = await iterator.next();
      return step.done ? null : step.value;
    },
    close: () => lines.close(),
  };
}

/** Options for {@link linePrompter}. */
export interface LinePrompterOptions {
  /** Where answers come from. */
  source: LineSource;
  /** Where questions and results go. */
  write: LineWriter;
}

/**
 * Creates a prompter that reads one answer per line. An invalid answer is explained and asked
 * again; the end of input counts as cancel.
 *
 * @param options The line source and the writer.
 * @returns The prompter.
 */
export function linePrompter(options: LinePrompterOptions): Prompter {
  const { source, write } = options;
  const ask = async (question: Question): Promise<string | null> => {
    while (true) {
      write(`${question.message}:`);
      const line = await source.next();
      if (line === null) return null;
      const problem = line.length > INPUT_CHARS_MAX
        ? `Input must be at most ${INPUT_CHARS_MAX} characters`
        : question.validate?.(line);
      if (problem === undefined) return line;
      write(`Error: ${problem}`);
    }
  };
  return {
    text: ask,
    // A pipe does not echo, so the secret is read like any other line and never written back.
    secret: ask,
    async choose<T extends string>(message: string, choices: readonly Choice<T>[]) {
      choices.forEach((choice, index) => write(`  ${index + 1}) ${choice.label}`));
      const answer = await ask({
        message: `${message} (1-${choices.length})`,
        validate: (text) =>
          pick(choices, text) === undefined
            ? `Enter a number from 1 to ${choices.length} or a name from the list`
            : undefined,
      });
      return answer === null ? null : pick(choices, answer)!.value;
    },
    info: (line) => write(line),
    success: (line) => write(line),
    warn: (line) => write(`Warning: ${line}`),
    error: (line) => write(`Error: ${line}`),
    block: (title, body) => write(`${title}\n${body}`),
    close: () => source.close(),
  };
}

function pick<T extends string>(
  choices: readonly Choice<T>[],
  text: string,
): Choice<T> | undefined {
  const wanted = text.trim().toLowerCase();
  const index = Number(wanted);
  if (Number.isInteger(index) && index >= 1 && index <= choices.length) return choices[index - 1];
  return choices.find((choice) =>
    choice.label.toLowerCase() === wanted || choice.value.toLowerCase() === wanted
  );
}
