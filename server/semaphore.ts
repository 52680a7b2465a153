/**
 * A counting semaphore: at most `permits` holders at once, the rest wait in arrival order.
 *
 * @module
 */

/** Limits how many callers run a section at once. */
export class Semaphore {
  #available: number;
  #waiting: (() => void)[] = [];

  /**
   * @param permits How many holders may run at once; at least 1.
   */
  constructor(permits: number) {
    if (!Number.isInteger(permits) || permits < 1) {
      throw new RangeError(`Semaphore permits must be a positive integer: got ${permits}`);
    }
    this.#available = permits;
  }

  /**
   * Runs `section` once a permit is free, and frees it afterwards, also on error.
   *
   * @param section The work to limit.
   * @returns What `section` returned.
   */
  async run<T>(section: () => Promise<T>): Promise<T> {
    if (this.#available > 0) {
      this.#available--;
    } else {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    try {
      return await section();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#available++;
    }
  }
}
