/**
 * `WorkerMacChecker`: checks chain MACs on a worker thread (`mac_worker.ts`), so that a reader of
 * a large log uses two cores: this thread parses, decrypts and prints while the worker hashes.
 *
 * The worker loads the MAC keys from the key files itself, exactly as a reader on this thread
 * would (`readerKeyring`); no key crosses between the threads, and this thread holds none. The
 * records' bytes are not copied either: the scanner takes them from slabs of shared memory
 * (`RecordSlab`), and a batch sends only where each record's MAC input and tag lie.
 *
 * @module
 */

import { AuditError, type AuditErrorCode } from "./audit_error.ts";
import type { Bytes } from "./audit_crypto.ts";
import type { MacChecker, MacJob } from "./mac_checker.ts";

/** Numbers per job in a batch's table: epoch, input buffer, offset, length, tag buffer, offset. */
export const JOB_FIELDS = 6;

/** A request to the worker. */
export type ToMacWorker =
  | { kind: "open"; dataDir: string; offlineKeyPath?: string }
  | { kind: "check"; buffers: SharedArrayBuffer[]; table: Uint32Array }
  | { kind: "close" };

/** A reply from the worker, one per open or check, in order. */
export type FromMacWorker =
  | { kind: "opened"; epochLimit: number | undefined }
  | { kind: "checked"; verdicts: Uint8Array<ArrayBuffer> }
  | { kind: "failed"; code: AuditErrorCode; message: string; file?: string; line?: number };

interface Waiter {
  resolve: (reply: FromMacWorker) => void;
  reject: (error: Error) => void;
}

/** Checks MACs on a worker thread that holds the keys. */
export class WorkerMacChecker implements MacChecker {
  readonly #worker: Worker;
  readonly #waiting: Waiter[] = [];
  #epochLimit: number | undefined;
  #failure: AuditError | null = null;
  #closed = false;

  private constructor() {
    this.#worker = new Worker(new URL("./mac_worker.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = (event: MessageEvent<FromMacWorker>) => {
      this.#waiting.shift()?.resolve(event.data);
    };
    this.#worker.onerror = (event: ErrorEvent) => {
      event.preventDefault(); // the reader reports it; this process goes on
      this.#fail(new AuditError("io", `MAC worker failed: ${event.message}`));
    };
  }

  /**
   * Starts a worker and has it load the MAC keys of a data directory.
   *
   * @param options The data directory, and the offline key file when the caller has it.
   * @returns The checker, once the keys are loaded.
   * @throws {AuditError} What loading the keys on this thread would throw (`missing_key`,
   * `insecure_key_file`, `malformed`), or `io` when the worker cannot run.
   */
  static async open(
    options: { dataDir: string; offlineKeyPath?: string },
  ): Promise<WorkerMacChecker> {
    const checker = new WorkerMacChecker();
    try {
      const reply = await checker.#request({ kind: "open", ...options });
      if (reply.kind === "opened") checker.#epochLimit = reply.epochLimit;
      return checker;
    } catch (error) {
      checker.close();
      throw error;
    }
  }

  /** @inheritdoc */
  get epochLimit(): number | undefined {
    return this.#epochLimit;
  }

  /** The worker reads the records where this thread parsed them. */
  readonly readsSharedMemory = true;

  /** @inheritdoc */
  async check(jobs: readonly MacJob[]): Promise<Uint8Array<ArrayBuffer>> {
    const buffers: SharedArrayBuffer[] = [];
    const indexOf = new Map<SharedArrayBuffer, number>();
    const place = (view: Bytes): [number, number] => {
      const shared = sharedView(view);
      let index = indexOf.get(shared.buffer);
      if (index === undefined) {
        index = buffers.length;
        buffers.push(shared.buffer);
        indexOf.set(shared.buffer, index);
      }
      return [index, shared.byteOffset];
    };
    const table = new Uint32Array(jobs.length * JOB_FIELDS);
    jobs.forEach((job, i) => {
      const [inputBuffer, inputOffset] = place(job.input);
      const [tagBuffer, tagOffset] = place(job.tag);
      table.set(
        [job.epoch, inputBuffer, inputOffset, job.input.length, tagBuffer, tagOffset],
        i * JOB_FIELDS,
      );
    });
    const reply = await this.#request({ kind: "check", buffers, table }, [table.buffer]);
    if (reply.kind !== "checked" || reply.verdicts.length !== jobs.length) {
      throw new AuditError("io", "MAC worker answered out of turn");
    }
    return reply.verdicts;
  }

  /** @inheritdoc */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#failure === null) {
      this.#worker.postMessage({ kind: "close" } satisfies ToMacWorker); // it erases its keys
    } else {
      this.#worker.terminate();
    }
    this.#fail(new AuditError("closed", "MAC checker is closed"));
  }

  #request(message: ToMacWorker, transfer: Transferable[] = []): Promise<FromMacWorker> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    const { promise, resolve, reject } = Promise.withResolvers<FromMacWorker>();
    this.#waiting.push({ resolve, reject });
    this.#worker.postMessage(message, transfer);
    return promise.then((reply) => {
      if (reply.kind !== "failed") return reply;
      const { code, message, file, line } = reply;
      throw new AuditError(code, message, { file, line });
    });
  }

  #fail(error: AuditError): void {
    this.#failure ??= error;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(this.#failure);
  }
}

/**
 * The view itself when it lies in shared memory (the scanner's slabs), else a shared copy: only
 * for the rare line that the JSON parser took instead of record_parser.ts.
 */
function sharedView(view: Bytes): Uint8Array<SharedArrayBuffer> {
  const bytes = view as Uint8Array<ArrayBufferLike>;
  if (bytes.buffer instanceof SharedArrayBuffer) return bytes as Uint8Array<SharedArrayBuffer>;
  const copy = new Uint8Array(new SharedArrayBuffer(bytes.length));
  copy.set(bytes);
  return copy;
}
