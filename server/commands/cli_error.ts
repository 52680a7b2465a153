/**
 * The error a `bank` command throws to end with a one-line message and a chosen exit code.
 *
 * @module
 */

/** Exit codes of the `bank` command. */
export const EXIT = { ok: 0, failure: 1, usage: 2, refused: 3 } as const;

/** A failure the operator can act on, printed as `bank: MESSAGE`. */
export class CliError extends Error {
  /** Exit status of the process. */
  readonly exitCode: number;

  /**
   * @param message One line saying what is wrong and, where possible, what to do.
   * @param exitCode Exit status (default {@link EXIT.failure}).
   */
  constructor(message: string, exitCode: number = EXIT.failure) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}
