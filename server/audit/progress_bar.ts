/**
 * A one-line progress bar on a terminal's stderr while a large log is read.
 *
 * @module
 */

import { PROGRESS_BYTES_MIN } from "./constants.ts";

/** Characters of the bar itself. */
const BAR_WIDTH = 30;

const ENCODER = new TextEncoder();
const MIB = 1024 * 1024;

/** Draws progress when enabled; redraws only when the shown percentage changes. */
export class ProgressBar {
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #enabled: boolean;
  #shown = -1;
  #drawn = false;
  #writes: Promise<void> = Promise.resolve();

  /**
   * Creates a bar.
   *
   * @param writer Where to draw (stderr).
   * @param enabled Whether stderr is a terminal; a pipe or file gets no bar.
   */
  constructor(writer: WritableStreamDefaultWriter<Uint8Array>, enabled: boolean) {
    this.#writer = writer;
    this.#enabled = enabled;
  }

  /**
   * Reports progress.
   *
   * @param done Bytes read.
   * @param total Bytes to read; logs under PROGRESS_BYTES_MIN get no bar.
   */
  update(done: number, total: number): void {
    if (!this.#enabled || total < PROGRESS_BYTES_MIN) return;
    const percent = Math.min(100, Math.floor((done * 100) / total));
    if (percent === this.#shown) return;
    this.#shown = percent;
    const filled = Math.round((percent * BAR_WIDTH) / 100);
    const bar = "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled);
    const sizes = `${(done / MIB).toFixed(1)}/${(total / MIB).toFixed(1)} MiB`;
    this.#draw(`\r[${bar}] ${String(percent).padStart(3)}% ${sizes}`);
  }

  /**
   * Clears the bar so the next output starts on a clean line.
   *
   * @returns Once the terminal has been written.
   */
  async finish(): Promise<void> {
    if (this.#drawn) this.#draw("\r\x1b[K");
    this.#drawn = false;
    await this.#writes;
  }

  #draw(text: string): void {
    this.#drawn = true;
    const write = this.#writer.write(ENCODER.encode(text));
    this.#writes = this.#writes.then(() => write).catch(() => {}); // a closed terminal is no error
  }
}
