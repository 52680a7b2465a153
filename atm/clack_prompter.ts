/**
 * The terminal {@link Prompter}: arrow-key menus and masked PIN entry with `@clack/prompts`.
 *
 * @module
 */

import { isCancel, log, note, password, select, text } from "@clack/prompts";
import type { Writable } from "node:stream";
import type { Choice, Prompter, Question } from "./prompter.ts";

/** Options for {@link clackPrompter}. */
export interface ClackPrompterOptions {
  /** Where prompts are drawn [process.stdout]; scripted mode uses stderr to keep stdout clean. */
  output?: Writable;
}

/**
 * Creates a prompter for an interactive terminal. Ctrl-C in any prompt gives null.
 *
 * @param options Where to draw.
 * @returns The prompter.
 */
export function clackPrompter(options: ClackPrompterOptions = {}): Prompter {
  const { output } = options;
  const ask = async (question: Question, masked: boolean): Promise<string | null> => {
    const validate = question.validate;
    const common = {
      message: question.message,
      output,
      validate: validate === undefined
        ? undefined
        : (value: string | undefined) => validate(value ?? ""),
    };
    const answer = masked ? await password(common) : await text(common);
    return isCancel(answer) ? null : answer;
  };
  return {
    text: (question) => ask(question, false),
    secret: (question) => ask(question, true),
    async choose<T extends string>(message: string, choices: readonly Choice<T>[]) {
      const options = choices.map((choice) => ({ value: choice.value, label: choice.label }));
      // deno-lint-ignore no-explicit-any -- clack's Option<T> type is conditional on T
      const answer = await select<T>({ message, options: options as any, output });
      return isCancel(answer) ? null : answer as T;
    },
    info: (line) => log.info(line, { output }),
    success: (line) => log.success(line, { output }),
    warn: (line) => log.warn(line, { output }),
    error: (line) => log.error(line, { output }),
    block: (title, body) => note(body, title, { output }),
    close: () => {},
  };
}
