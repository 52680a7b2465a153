/**
 * How the menu talks to the customer, independent of whether a terminal (clack prompts) or a
 * pipe (plain lines) is on the other end.
 *
 * @module
 */

/** One question for a line of input. */
export interface Question {
  /** The question shown, e.g. `Amount to deposit`. */
  message: string;
  /** Returns a message explaining what is wrong, or undefined to accept the input. */
  validate?: (value: string) => string | undefined;
}

/** One entry of a choice list. */
export interface Choice<T extends string> {
  /** Returned when chosen. */
  value: T;
  /** Shown to the customer. */
  label: string;
}

/** A way to ask the customer things and tell them results. */
export interface Prompter {
  /** Asks for a line of text; null when the customer cancels or input ends. */
  text(question: Question): Promise<string | null>;
  /** Like {@link text}, without showing what is typed. */
  secret(question: Question): Promise<string | null>;
  /** Asks to pick one entry; null when the customer cancels or input ends. */
  choose<T extends string>(message: string, choices: readonly Choice<T>[]): Promise<T | null>;
  /** Shows a neutral line. */
  info(text: string): void;
  /** Shows that something worked. */
  success(text: string): void;
  /** Shows a warning that needs no action, e.g. a reconnect. */
  warn(text: string): void;
  /** Shows that something failed. */
  error(text: string): void;
  /** Shows a block of text, e.g. a statement, under a title. */
  block(title: string, body: string): void;
  /** Releases the input. */
  close(): void;
}
