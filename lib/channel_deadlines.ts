/**
 * The two deadlines of a session's channel, a record write and a wait for a record, each set and
 * cleared once per record, on one timer per channel.
 *
 * Why: a `setTimeout` with its `clearTimeout` per record costs more than a microsecond plus
 * garbage in Deno, for a timer that almost never fires, and an idle session would hold two. Here
 * setting a deadline only stores a time. One timer runs at a time; it is created only when none
 * runs or the one running would fire too late. When it fires, it reports the deadlines that
 * passed and, if one is still set, waits again for it; a deadline cleared meanwhile is forgotten.
 *
 * Note: the timer is unreferenced, so it never holds the process open by itself: what a deadline
 * guards (a pending read or write) does that while it is pending.
 *
 * @module
 */

import { assertTimeout } from "./frame.ts";

/** Which deadline passed. */
export type ChannelDeadline = "write" | "receive";

/** Calls back once a set deadline passes, unless it is cleared first. Times are monotonic ms. */
export class ChannelDeadlines {
  readonly #onExpiry: (deadline: ChannelDeadline) => void;
  #writeDueAt = Infinity;
  #receiveDueAt = Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the running timer fires. */
  #timerAt = Infinity;

  /**
   * Creates the deadlines, none set.
   *
   * @param onExpiry Called with the deadline that passed; it is then no longer set.
   */
  constructor(onExpiry: (deadline: ChannelDeadline) => void) {
    this.#onExpiry = onExpiry;
  }

  /**
   * Sets one deadline to `timeoutMs` from now, replacing its earlier value.
   *
   * @param deadline Which one.
   * @param timeoutMs Milliseconds, 1 to TIMEOUT_MS_MAX.
   * @throws {RangeError} When the timeout is out of range (nothing changes).
   */
  set(deadline: ChannelDeadline, timeoutMs: number): void {
    assertTimeout(timeoutMs);
    const dueAt = performance.now() + timeoutMs;
    if (deadline === "write") this.#writeDueAt = dueAt;
    else this.#receiveDueAt = dueAt;
    if (this.#timer === undefined || this.#timerAt > dueAt) this.#start(timeoutMs, dueAt);
  }

  /**
   * Forgets one deadline; a running timer then no longer reports it.
   *
   * @param deadline Which one.
   */
  clear(deadline: ChannelDeadline): void {
    if (deadline === "write") this.#writeDueAt = Infinity;
    else this.#receiveDueAt = Infinity;
  }

  /** Forgets both deadlines and stops the timer, for a channel that is done. */
  dispose(): void {
    this.#writeDueAt = Infinity;
    this.#receiveDueAt = Infinity;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #start(delayMs: number, at: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = at;
    // The timer calls back with `this` as its argument: no closure per channel.
    const timer = setTimeout(fireDeadlines, delayMs, this);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /**
   * Called by the timer: reports the deadlines that have passed and waits again for one still
   * set. Called at any other time it reports only deadlines that have passed, so it is harmless.
   */
  fired(): void {
    this.#timer = undefined;
    const now = performance.now();
    if (this.#writeDueAt <= now) {
      this.#writeDueAt = Infinity;
      this.#onExpiry("write");
    }
    if (this.#receiveDueAt <= now) {
      this.#receiveDueAt = Infinity;
      this.#onExpiry("receive");
    }
    // The callbacks may have set a deadline (and started a timer) or disposed of both.
    const next = Math.min(this.#writeDueAt, this.#receiveDueAt);
    if (next !== Infinity && this.#timer === undefined) {
      this.#start(Math.max(1, Math.ceil(next - now)), next);
    }
  }
}

function fireDeadlines(deadlines: ChannelDeadlines): void {
  deadlines.fired();
}
