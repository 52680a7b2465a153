/**
 * A small seeded pseudo-random generator (mulberry32), so a torture run that fails can be run
 * again with the same choices of operations, amounts and kill moments by passing its seed.
 * Not for anything secret: keys and request ids come from `crypto`.
 *
 * @module
 */

/** Deterministic random numbers from a 32-bit seed. */
export class SeededRandom {
  #state: number;

  /** @param seed Any integer; the same seed gives the same sequence. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`Seed must be an integer: got ${seed}`);
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /**
   * An integer from `min` to `max`, both included.
   *
   * @param min The lowest value.
   * @param max The highest value, at least `min`.
   * @returns The integer.
   */
  integer(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min) {
      throw new RangeError(`Need integers min <= max: got ${min} and ${max}`);
    }
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /**
   * One element of a non-empty list.
   *
   * @param items The list.
   * @returns One of its elements.
   */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("Cannot pick from an empty list");
    return items[this.integer(0, items.length - 1)];
  }

  /**
   * A new generator whose sequence depends on this one's next value, for a worker of its own.
   *
   * @returns The child generator.
   */
  fork(): SeededRandom {
    return new SeededRandom(this.integer(0, 0xffffffff));
  }
}
