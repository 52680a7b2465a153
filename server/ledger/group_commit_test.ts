import { GroupCommit, GroupCommitError } from "./group_commit.ts";
import { openSqliteStore } from "./sqlite_store.ts";
import { addTestCustomer, assert, assertEquals, cashOp } from "./store_suite_helpers.ts";

/** A commit step that records each batch and waits until the test releases it. */
function gatedCommit() {
  const batches: number[][] = [];
  const gates: PromiseWithResolvers<void>[] = [];
  const commit = async (ops: number[]) => {
    batches.push([...ops]);
    const gate = Promise.withResolvers<void>();
    gates.push(gate);
    await gate.promise;
    return ops.map((op) => op * 10);
  };
  /** Resolves once `count` commits have started. */
  const started = async (count: number) => {
    for (let tick = 0; gates.length < count; tick++) {
      if (tick > 1_000) throw new Error(`commit ${count} never started`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };
  return { batches, gates, commit, started };
}

Deno.test("GroupCommit gathers submissions made during a commit into the next batch", async () => {
  const { batches, gates, commit, started } = gatedCommit();
  const queue = new GroupCommit<number, number>({ commit });
  const first = queue.submit(1);
  await started(1);
  const waiting = [2, 3, 4, 5, 6].map((op) => queue.submit(op));
  assertEquals(queue.queued, 5, "queued behind the commit in flight");
  gates[0].resolve();
  assertEquals(await first, 10, "first result");
  await started(2);
  gates[1].resolve();
  assertEquals(await Promise.all(waiting), [20, 30, 40, 50, 60], "results in order");
  assertEquals(batches, [[1], [2, 3, 4, 5, 6]], "one commit for the five that waited");
});

Deno.test("GroupCommit commits submissions of the same tick together", async () => {
  const batches: number[][] = [];
  const queue = new GroupCommit<number, number>({
    commit: (ops) => {
      batches.push(ops);
      return Promise.resolve(ops.map((op) => -op));
    },
  });
  const results = await Promise.all([queue.submit(1), queue.submit(2), queue.submit(3)]);
  assertEquals(results, [-1, -2, -3], "results");
  assertEquals(batches, [[1, 2, 3]], "one batch");
});

Deno.test("GroupCommit splits batches at batchOperationsMax", async () => {
  const sizes: number[] = [];
  const queue = new GroupCommit<number, number>({
    batchOperationsMax: 4,
    commit: (ops) => {
      sizes.push(ops.length);
      return Promise.resolve(ops);
    },
  });
  const ops = Array.from({ length: 10 }, (_, i) => i);
  assertEquals(await Promise.all(ops.map((op) => queue.submit(op))), ops, "results");
  assertEquals(sizes, [4, 4, 2], "batch sizes");
});

Deno.test("GroupCommit rejects every waiter of a failed commit and goes on with the next", async () => {
  const { gates, commit, started } = gatedCommit();
  let fail = true;
  const queue = new GroupCommit<number, number>({
    commit: (ops) => fail ? Promise.reject(new Error("disk full")) : commit(ops),
  });
  const doomed = [1, 2, 3].map((op) => queue.submit(op).then(() => "resolved", (e) => e.message));
  assertEquals(await Promise.all(doomed), ["disk full", "disk full", "disk full"], "all rejected");
  fail = false;
  const later = queue.submit(4);
  await started(1);
  gates[0].resolve();
  assertEquals(await later, 40, "the next batch still commits");
});

Deno.test("GroupCommit rejects every waiter when the commit returns the wrong count", async () => {
  const queue = new GroupCommit<number, number>({ commit: () => Promise.resolve([1]) });
  const outcomes = await Promise.all([1, 2].map((op) =>
    queue.submit(op).then(
      () => "resolved",
      (error) => error instanceof GroupCommitError ? error.code : String(error),
    )
  ));
  assertEquals(outcomes, ["result_count", "result_count"], "outcomes");
});

Deno.test("GroupCommit passes a commit step that throws synchronously to every waiter", async () => {
  const queue = new GroupCommit<number, number>({
    commit: () => {
      throw new Error("bug");
    },
  });
  const outcome = await queue.submit(1).then(() => "resolved", (error) => error.message);
  assertEquals(outcome, "bug", "outcome");
});

Deno.test("GroupCommit over a SQLite store applies concurrent submissions in few commits", async () => {
  const dir = await Deno.makeTempDir({ prefix: "group_commit_test_" });
  const store = await openSqliteStore(`${dir}/ledger.sqlite`);
  try {
    const alice = await addTestCustomer(store, "alice", 0);
    let commits = 0;
    const queue = new GroupCommit({
      commit: (ops) => {
        commits++;
        return store.applyBatch(ops);
      },
    });
    const ops = Array.from(
      { length: 100 },
      () => cashOp("deposit", { customerId: alice, amountCents: 1 }),
    );
    const first = queue.submit(ops[0]);
    const rest = ops.slice(1).map((op) => queue.submit(op));
    const results = [await first, ...await Promise.all(rest)];
    assert(results.every((result) => result.ok && !result.replayed), "all applied");
    assertEquals(await store.balance(alice), 100, "balance");
    assert(commits <= 2, `expected at most 2 commits, got ${commits}`);
    assert((await store.checkInvariants()).ok, "invariants");
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
