import { assert, assertEquals } from "../lib/_test_assert.ts";
import { renderChart } from "./chart.ts";
import type { ClosedLoopResult } from "./closed_loop.ts";
import { buildRows, formatCpuTable, formatMarkdownTable, formatTable } from "./report.ts";
import type { BenchResults } from "./results_model.ts";

function loop(perSecond: number, p99Ms = 1): ClosedLoopResult {
  return {
    operations: perSecond,
    completed: perSecond,
    seconds: 1,
    perSecond,
    failures: 0,
    p50Ms: 0.5,
    p99Ms,
    maxMs: 2,
  };
}

function results(): BenchResults {
  return {
    mode: "quick",
    startedAt: "2026-01-01T00:00:00.000Z",
    finishedAt: "2026-01-01T00:01:00.000Z",
    seconds: 60,
    machine: {
      cores: 2,
      cpuModel: "test <cpu>",
      memoryBytes: 2 ** 30,
      os: "linux",
      deno: "2.9.6",
      v8: "15",
      typescript: "6",
      loadAverageStart: [0, 0, 0],
      openFilesLimit: 20_000,
    },
    loadAverageEnd: [1, 1, 1],
    messageSizes: { requestBytes: 40, responseBytes: 70 },
    handshakes: { concurrency: 16, bank: loop(300), tls: loop(100) },
    roundTrips: [{ atms: 100, bank: loop(500), tls: loop(1000) }],
    transactions: [{ atms: 100, bank: loop(5000, 12) }, { atms: 1_000, bank: loop(6000) }],
    fsyncCeiling: { commits: 1000, seconds: 1, perSecond: 1000, journalMode: "wal" },
    pgbench: {
      scale: 1,
      seconds: 1,
      runs: [{ clients: 100, tps: 4000 }, { clients: 1_000, skipped: "max_connections" }],
    },
    idleSessions: {
      sessions: 1000,
      rssBeforeBytes: 0,
      rssAfterBytes: 1000 * 20 * 1024,
      perSessionBytes: 20 * 1024,
      openSeconds: 1,
    },
    audit: {
      records: 10,
      logBytes: 1,
      files: 1,
      generateSeconds: 1,
      verify: { seconds: 1, recordsPerSecond: 30 },
      decrypt: { seconds: 1, recordsPerSecond: 10 },
      plaintext: { seconds: 1, recordsPerSecond: 100, bytes: 1 },
    },
    bankAuditCheck: "OK",
    notes: [],
  };
}

Deno.test("buildRows() judges each target: met, not met, or not judged without a baseline", () => {
  const rows = new Map(buildRows(results()).map((row) => [row.id, row]));
  assertEquals(rows.get("handshakes")?.ratio, 3);
  assertEquals(rows.get("handshakes")?.met, true);
  assertEquals(rows.get("round_trips_100")?.met, false);
  assertEquals(rows.get("tx_100_vs_fsync")?.met, false); // 5x, target 10x
  assertEquals(rows.get("tx_100_vs_pgbench")?.met, true);
  assertEquals(rows.get("tx_1000_vs_pgbench")?.met, null);
  assertEquals(rows.get("tx_1000_vs_pgbench")?.note, "max_connections");
  assertEquals(rows.get("tx_1000_vs_fsync")?.met, null); // no target at 1,000 ATMs
  assertEquals(rows.get("tx_100_p99")?.met, false);
  assertEquals(rows.get("idle_session_memory")?.value, 20);
  assertEquals(rows.get("idle_session_memory")?.met, true);
  assertEquals(rows.get("audit_verify")?.met, true);
  assertEquals(rows.get("audit_decrypt")?.met, false);
});

Deno.test("buildRows() leaves the memory figure unjudged when it was skipped", () => {
  const skipped = { ...results(), idleSessions: { skipped: "open-file limit 256 is too low" } };
  const row = buildRows(skipped).find((r) => r.id === "idle_session_memory");
  assertEquals(row?.met, null);
  assertEquals(row?.note, "open-file limit 256 is too low");
});

Deno.test("formatTable() prints one line per row under a header", () => {
  const rows = buildRows(results());
  const lines = formatTable(rows).split("\n");
  assertEquals(lines.length, rows.length + 2);
  assert(lines[0].startsWith("Figure"));
  assert(lines.some((line) => line.includes("NOT MET")));
});

Deno.test("renderChart() draws a bar per ratio and escapes text", () => {
  const rows = buildRows(results());
  const svg = renderChart(rows, "caption <with> & marks");
  assert(svg.startsWith("<svg"));
  assert(svg.includes("caption &lt;with&gt; &amp; marks"));
  const bars = svg.match(/<rect x="\d+(\.\d+)?" y="\d+(\.\d+)?" width=/g) ?? [];
  const withValue = rows.filter((row) =>
    row.ratio !== undefined ? row.ratio !== null : row.targetRule && row.value !== null
  );
  assertEquals(bars.length, withValue.length + 3); // plus three legend swatches
});

Deno.test("formatCpuTable() lists the CPU per operation of both sides where it was measured", () => {
  const measured = results();
  measured.handshakes.bank.cpu = { serverUs: 2400, clientUs: 2100 };
  measured.handshakes.tls.cpu = { serverUs: 900, clientUs: 800 };
  const lines = formatCpuTable(measured).split("\n");
  assertEquals(lines.length, 3);
  assert(lines[2].includes("2,400") && lines[2].includes("900"));
});

Deno.test("formatMarkdownTable() writes a header, a rule and one row per figure", () => {
  const rows = buildRows(results());
  const lines = formatMarkdownTable(rows).split("\n");
  assertEquals(lines.length, rows.length + 2);
  assert(lines.every((line) => line.startsWith("| ") && line.endsWith(" |")));
  assert(lines.some((line) => line.includes("**not met**")));
});
