/**
 * Group commit: many callers, few durable commits. Callers `submit()` operations; while one batch
 * is being committed, new submissions gather into the next batch, which starts the moment the
 * previous commit settles. Under load each fsync thus covers many operations; when idle an
 * operation is committed on its own without waiting for company.
 *
 * The commit step is injected so the bank can make its audit records durable in the same step:
 * a caller is answered only after everything its answer depends on is on disk.
 *
 * @module
 */

import type { Operation, OperationResult } from "./store.ts";

/**
 * Most operations committed in one batch. Bounds the transaction size (and the time one commit
 * holds the write lock) while still spreading one fsync over hundreds of operations.
 */
export const BATCH_OPERATIONS_MAX = 512;

/**
 * Most operations waiting for a commit. Sessions send one request at a time, so this is far
 * above the connection limit; reaching it means commits have stalled and waiting longer only
 * piles up memory.
 */
export const QUEUED_OPERATIONS_MAX = 65_536;

/** Why a submission failed without its commit step being the cause. */
export type GroupCommitErrorCode = "queue_full" | "result_count";

/** A submission refused by the queue, or a commit step that broke its contract. */
export class GroupCommitError extends Error {
  /** Why. */
  readonly code: GroupCommitErrorCode;

  /**
   * Creates the error.
   *
   * @param code Why.
   * @param message What happened.
   */
  constructor(code: GroupCommitErrorCode, message: string) {
    super(message);
    this.name = "GroupCommitError";
    this.code = code;
  }
}

/** How a {@link GroupCommit} commits. */
export interface GroupCommitOptions<Op, Result> {
  /**
   * Makes a batch durable and returns one result per operation, in order. A rejection fails
   * every operation of the batch with the same error.
   */
  commit: (ops: Op[]) => Promise<Result[]>;
  /** Largest batch; defaults to {@link BATCH_OPERATIONS_MAX}. */
  batchOperationsMax?: number;
}

interface Waiter<Op, Result> {
  op: Op;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

/**
 * A queue that commits submitted operations in batches, one commit at a time.
 *
 * @example Batch operations
 * ```ts ignore
 * const queue = new GroupCommit({ commit: (ops) => store.applyBatch(ops) });
 * const result = await queue.submit(op);
 * ```
 */
export class GroupCommit<Op = Operation, Result = OperationResult> {
  readonly #commit: (ops: Op[]) => Promise<Result[]>;
  readonly #batchMax: number;
  #queue: Waiter<Op, Result>[] = [];
  #running = false;

  /**
   * Creates the queue.
   *
   * @param options The commit step and the batch bound.
   * @throws {RangeError} When the batch bound is not a positive integer.
   */
  constructor(options: GroupCommitOptions<Op, Result>) {
    const batchMax = options.batchOperationsMax ?? BATCH_OPERATIONS_MAX;
    if (!Number.isSafeInteger(batchMax) || batchMax < 1) {
      throw new RangeError(`batchOperationsMax must be a positive integer: got ${batchMax}`);
    }
    this.#commit = options.commit;
    this.#batchMax = batchMax;
  }

  /** Operations waiting for a commit that has not started yet. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Queues an operation for the next commit.
   *
   * @param op The operation.
   * @returns Its result, once the batch holding it is committed.
   * @throws {GroupCommitError} "queue_full" when too many operations wait; "result_count" when
   * the commit step returned the wrong number of results. Any error of the commit step itself
   * is passed on unchanged.
   */
  submit(op: Op): Promise<Result> {
    if (this.#queue.length >= QUEUED_OPERATIONS_MAX) {
      const message = `Commit queue is full (${QUEUED_OPERATIONS_MAX} operations waiting)`;
      return Promise.reject(new GroupCommitError("queue_full", message));
    }
    const done = Promise.withResolvers<Result>();
    this.#queue.push({ op, resolve: done.resolve, reject: done.reject });
    if (!this.#running) {
      this.#running = true;
      this.#drain();
    }
    return done.promise;
  }

  async #drain(): Promise<void> {
    // Let submissions made in the same tick as the first one join its batch.
    await Promise.resolve();
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#batchMax);
      await this.#commitBatch(batch);
    }
    this.#running = false;
  }

  async #commitBatch(batch: Waiter<Op, Result>[]): Promise<void> {
    let results: Result[];
    try {
      results = await this.#commit(batch.map((waiter) => waiter.op));
    } catch (error) {
      for (const waiter of batch) waiter.reject(error);
      return;
    }
    if (!Array.isArray(results) || results.length !== batch.length) {
      const got = Array.isArray(results) ? results.length : typeof results;
      const error = new GroupCommitError(
        "result_count",
        `Commit returned ${got} results for ${batch.length} operations`,
      );
      for (const waiter of batch) waiter.reject(error);
      return;
    }
    batch.forEach((waiter, i) => waiter.resolve(results[i]));
  }
}
