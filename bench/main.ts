/**
 * `deno task bench [--quick]`: starts a bank on loopback with a fresh data directory, drives it
 * with simulated ATMs speaking the real protocol, runs the baselines in the same process tree,
 * and reports every figure divided by its baseline as a table on stdout, as JSON in
 * bench/results/latest.json and as an SVG chart in bench/results/latest.svg.
 *
 * See docs/performance.md for what each figure means and what was found.
 *
 * @module
 */

import { type BenchConfig, FULL_CONFIG, QUICK_CONFIG } from "./config.ts";
import { describeMachine, formatMachine, type MachineInfo } from "./machine.ts";
import { buildRows, formatCpuTable, formatMarkdownTable, formatTable } from "./report.ts";
import { renderChart } from "./chart.ts";
import type { BenchResults } from "./results_model.ts";
import { runBenchmark } from "./run.ts";

/** Where results go, relative to the repository root. */
const RESULTS_DIR = new URL("./results/", import.meta.url).pathname;

/** Command-line flags. */
interface Flags {
  quick: boolean;
  /** Write results to these files instead of latest.json / latest.svg. */
  out: string;
}

function parseFlags(args: string[]): Flags {
  const flags: Flags = { quick: false, out: "latest" };
  for (const arg of args) {
    if (arg === "--quick") flags.quick = true;
    else if (arg.startsWith("--out=") && /^[a-z0-9_-]+$/.test(arg.slice(6))) {
      flags.out = arg.slice(6);
    } else if (arg === "--help" || arg === "-h") {
      console.log(
        "Usage: deno task bench [--quick] [--out=NAME]\n\n" +
          "  --quick      smaller counts, same figures and ratios (under a minute)\n" +
          "  --out=NAME   write bench/results/NAME.json, NAME.svg and NAME.md (default: latest)",
      );
      Deno.exit(0);
    } else {
      console.error(`bench: unknown argument ${JSON.stringify(arg)} (try --help)`);
      Deno.exit(2);
    }
  }
  return flags;
}

function caption(results: BenchResults, machine: MachineInfo): string {
  const load = results.loadAverageEnd.map((v) => v.toFixed(2)).join(" ");
  return `${results.mode} run ${results.startedAt.slice(0, 16)}Z, ${machine.cores} cores, ` +
    `${(machine.memoryBytes / 2 ** 30).toFixed(0)} GiB, Deno ${machine.deno}, ` +
    `load average at end ${load}`;
}

/**
 * Writes the JSON, the chart and the Markdown table of a run.
 *
 * @param results What the run measured.
 * @param name File name without extension, under bench/results/.
 * @returns The paths written.
 */
export async function writeResults(results: BenchResults, name: string): Promise<string[]> {
  const rows = buildRows(results);
  const json = `${RESULTS_DIR}${name}.json`;
  const svg = `${RESULTS_DIR}${name}.svg`;
  const markdown = `${RESULTS_DIR}${name}.md`;
  await Deno.writeTextFile(json, `${JSON.stringify({ schema: 1, ...results, rows }, null, 2)}\n`);
  await Deno.writeTextFile(svg, renderChart(rows, caption(results, results.machine)));
  const text = [
    caption(results, results.machine),
    formatMarkdownTable(rows),
    "CPU time per operation (all threads of each process, warm-up included):",
    formatCpuTable(results),
  ].join("\n\n");
  await Deno.writeTextFile(markdown, `${text}\n`);
  return [json, svg, markdown];
}

async function main(args: string[]): Promise<void> {
  const flags = parseFlags(args);
  const config: BenchConfig = flags.quick ? QUICK_CONFIG : FULL_CONFIG;
  const machine = await describeMachine();
  console.log(`bench: ${config.mode} run on ${formatMachine(machine)}`);
  const results = await runBenchmark(config, machine, RESULTS_DIR);
  const rows = buildRows(results);
  console.log("");
  console.log(formatTable(rows));
  console.log("");
  console.log("CPU time per operation (µs, all threads of each process):");
  console.log(formatCpuTable(results));
  console.log("");
  for (const note of results.notes) console.log(`note: ${note}`);
  const load = results.loadAverageEnd.map((v) => v.toFixed(2)).join(" ");
  console.log(`load average at end: ${load}; took ${results.seconds.toFixed(0)} s`);
  const written = await writeResults(results, flags.out);
  console.log(`wrote ${written.map((path) => path.replace(/^.*\/bench\//, "bench/")).join(", ")}`);
}

if (import.meta.main) await main(Deno.args);
