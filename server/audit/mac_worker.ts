/**
 * The body of the MAC worker that `WorkerMacChecker` starts (mac_worker_client.ts): loads the MAC
 * keys of a data directory, checks batches of MACs in the records' shared memory, and erases the
 * keys when told to close. Requests are handled one at a time, in order, so replies come back in
 * the order they were asked.
 *
 * Not imported by anything: it runs only as a worker. `deno compile` must be told to include it
 * (`deno task compile` does).
 *
 * @module
 */

import { AuditError } from "./audit_error.ts";
import type { Bytes } from "./audit_crypto.ts";
import { MAC_BYTES } from "./constants.ts";
import type { Keyring } from "./keyring.ts";
import { checkWithKeyring, type MacJob } from "./mac_checker.ts";
import { type FromMacWorker, JOB_FIELDS, type ToMacWorker } from "./mac_worker_client.ts";
import { readerKeyring } from "./reader_keys.ts";

/** The part of the worker's global scope used here. */
interface WorkerScope {
  onmessage: ((event: MessageEvent<ToMacWorker>) => void) | null;
  postMessage(message: FromMacWorker, transfer?: Transferable[]): void;
  close(): void;
}

const scope = self as unknown as WorkerScope;
let keyring: Keyring | null = null;
let handled: Promise<void> = Promise.resolve();

scope.onmessage = (event) => {
  handled = handled.then(() => handle(event.data));
};

async function handle(message: ToMacWorker): Promise<void> {
  try {
    if (message.kind === "open") {
      keyring = await readerKeyring(message);
      scope.postMessage({ kind: "opened", epochLimit: keyring.epochLimit });
    } else if (message.kind === "check") {
      if (keyring === null) throw new AuditError("closed", "MAC worker has no keys");
      const verdicts = await checkWithKeyring(jobsOf(message.buffers, message.table), keyring);
      scope.postMessage({ kind: "checked", verdicts }, [verdicts.buffer]);
    } else {
      keyring?.erase();
      keyring = null;
      scope.close();
    }
  } catch (error) {
    // the error's text and place only: AuditError messages never hold key material
    const problem = error instanceof AuditError
      ? { code: error.code, message: error.detail, file: error.file, line: error.line }
      : { code: "io" as const, message: error instanceof Error ? error.message : String(error) };
    scope.postMessage({ kind: "failed", ...problem });
  }
}

/** The jobs of a batch, as views into the records' shared memory. */
function jobsOf(buffers: SharedArrayBuffer[], table: Uint32Array): MacJob[] {
  const views = buffers.map((buffer) => new Uint8Array(buffer) as unknown as Bytes);
  const jobs: MacJob[] = [];
  for (let at = 0; at < table.length; at += JOB_FIELDS) {
    const [epoch, inputBuffer, inputOffset, inputLength, tagBuffer, tagOffset] = table.subarray(
      at,
      at + JOB_FIELDS,
    );
    jobs.push({
      epoch,
      input: views[inputBuffer].subarray(inputOffset, inputOffset + inputLength),
      tag: views[tagBuffer].subarray(tagOffset, tagOffset + MAC_BYTES),
    });
  }
  return jobs;
}
