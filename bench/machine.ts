/**
 * What machine a benchmark ran on: every run prints and stores it, since the absolute figures
 * only mean something next to it (the ratios are what carries over to other machines).
 *
 * @module
 */

/** The machine and runtime. */
export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  os: string;
  deno: string;
  v8: string;
  typescript: string;
  /** 1, 5 and 15 minute load averages when the run started. */
  loadAverageStart: number[];
  /** Soft limit on open files of this process (inherited by the bank). */
  openFilesLimit: number | null;
}

async function shellLine(script: string): Promise<string | null> {
  try {
    const output = await new Deno.Command("sh", {
      args: ["-c", script],
      stdout: "piped",
      stderr: "null",
    }).output();
    return output.success ? new TextDecoder().decode(output.stdout).trim() : null;
  } catch {
    return null;
  }
}

async function cpuModel(): Promise<string> {
  const line = await shellLine("grep -m1 '^model name' /proc/cpuinfo");
  return line?.replace(/^model name\s*:\s*/, "") || "unknown";
}

/**
 * The soft limit on open files of this process, which the bank process inherits.
 *
 * @returns The limit, or null when unknown or unlimited.
 */
export async function openFilesLimit(): Promise<number | null> {
  const line = await shellLine("ulimit -n");
  return line !== null && /^\d+$/.test(line) ? Number(line) : null;
}

/**
 * Describes this machine.
 *
 * @returns Cores, memory, OS, Deno version, load and open-file limit.
 */
export async function describeMachine(): Promise<MachineInfo> {
  return {
    cores: navigator.hardwareConcurrency,
    cpuModel: await cpuModel(),
    memoryBytes: Deno.systemMemoryInfo().total,
    os: `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    loadAverageStart: Deno.loadavg(),
    openFilesLimit: await openFilesLimit(),
  };
}

/**
 * One line for the top of the report.
 *
 * @param machine The machine.
 * @returns E.g. `2 cores (Intel ...), 23.4 GiB memory, linux 6.1 x86_64, Deno 2.9.6, load 0.7`.
 */
export function formatMachine(machine: MachineInfo): string {
  const gib = (machine.memoryBytes / 2 ** 30).toFixed(1);
  const load = machine.loadAverageStart.map((value) => value.toFixed(2)).join(" ");
  return `${machine.cores} cores (${machine.cpuModel}), ${gib} GiB memory, ${machine.os}, ` +
    `Deno ${machine.deno} (V8 ${machine.v8}), load average ${load}`;
}
