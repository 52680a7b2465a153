/**
 * CPU time per operation, for the server and for the simulated clients: a figure that depends
 * far less than throughput on what else the machine is doing, and shows where the work goes.
 *
 * @module
 */

import process from "node:process";
import type { ClosedLoopResult } from "./closed_loop.ts";

/** CPU microseconds per completed operation, all threads of each process. */
export interface CpuPerOperation {
  /** The server process (the bank, or the TLS baseline server). */
  serverUs: number;
  /** This process: the simulated ATMs or TLS clients. */
  clientUs: number;
}

/** Clock ticks per second of /proc's CPU times; Linux has used 100 everywhere for decades. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time a process has used, from /proc/PID/stat (read with `cat`: Deno lets a process read
 * another's /proc entry only with every permission).
 *
 * @param pid The process.
 * @returns User plus system time in milliseconds, or NaN when it cannot be read.
 */
export async function processCpuMs(pid: number): Promise<number> {
  const output = await new Deno.Command("cat", {
    args: [`/proc/${pid}/stat`],
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!output.success) return NaN;
  // Fields after the command name in parentheses; utime and stime are fields 14 and 15.
  const text = new TextDecoder().decode(output.stdout);
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

function selfCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/**
 * Runs a measurement and adds the CPU both sides spent per completed operation (warm-up
 * included, since the CPU counters cover it too).
 *
 * @param serverPid The server process.
 * @param measure The measurement.
 * @returns Its result with `cpu`.
 */
export async function withCpu(
  serverPid: number,
  measure: () => Promise<ClosedLoopResult>,
): Promise<ClosedLoopResult> {
  const server0 = await processCpuMs(serverPid);
  const client0 = selfCpuMs();
  const result = await measure();
  const client1 = selfCpuMs();
  const server1 = await processCpuMs(serverPid);
  const per = (ms: number) => result.completed > 0 ? (ms * 1000) / result.completed : NaN;
  return { ...result, cpu: { serverUs: per(server1 - server0), clientUs: per(client1 - client0) } };
}
