/**
 * The report as an SVG chart, written by hand (no library): one bar per figure on a log scale.
 * The top panel shows ratios to their baselines (longer is better) with the target marked; the
 * bottom panel shows figures with an upper limit as a fraction of it (shorter is better).
 *
 * @module
 */

import type { ReportRow } from "./report.ts";
import { roundFigure } from "./stats.ts";

/** Smallest and largest value the log axis shows; bars outside are clamped. */
const AXIS_MIN = 0.01;
const AXIS_MAX = 100;

const WIDTH = 1040;
const LABEL_WIDTH = 440;
const BAR_LEFT = LABEL_WIDTH + 10;
const BAR_WIDTH = 470;
const ROW_HEIGHT = 24;
const PANEL_GAP = 56;
const TOP = 56;

const COLOURS = { met: "#2e7d32", notMet: "#c62828", none: "#1565c0", grid: "#cccccc" };

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!,
  );
}

function x(value: number): number {
  const clamped = Math.min(AXIS_MAX, Math.max(AXIS_MIN, value));
  const span = Math.log10(AXIS_MAX) - Math.log10(AXIS_MIN);
  return BAR_LEFT + ((Math.log10(clamped) - Math.log10(AXIS_MIN)) / span) * BAR_WIDTH;
}

function colour(met: boolean | null): string {
  return met === null ? COLOURS.none : met ? COLOURS.met : COLOURS.notMet;
}

interface Bar {
  label: string;
  value: number | null;
  marker?: number;
  met: boolean | null;
  text: string;
}

function panel(title: string, bars: Bar[], top: number): { svg: string[]; height: number } {
  const svg = [
    `<text x="10" y="${top - 14}" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  const height = bars.length * ROW_HEIGHT;
  for (const tick of [0.01, 0.1, 1, 10, 100]) {
    const tx = x(tick);
    svg.push(
      `<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${top + height}" stroke="${COLOURS.grid}"/>`,
      `<text x="${tx}" y="${
        top + height + 14
      }" font-size="11" text-anchor="middle">${tick}x</text>`,
    );
  }
  bars.forEach((bar, i) => {
    const y = top + i * ROW_HEIGHT;
    svg.push(
      `<text x="${LABEL_WIDTH}" y="${y + 16}" font-size="12" text-anchor="end">${
        escapeXml(bar.label)
      }</text>`,
    );
    if (bar.value !== null) {
      const width = Math.max(1, x(bar.value) - BAR_LEFT);
      svg.push(
        `<rect x="${BAR_LEFT}" y="${y + 4}" width="${width.toFixed(1)}" height="${
          ROW_HEIGHT - 8
        }" fill="${colour(bar.met)}"/>`,
      );
    }
    if (bar.marker !== undefined) {
      const mx = x(bar.marker).toFixed(1);
      svg.push(
        `<line x1="${mx}" y1="${y + 1}" x2="${mx}" y2="${y + ROW_HEIGHT - 1}" stroke="#000" ` +
          `stroke-width="2" stroke-dasharray="3,2"/>`,
      );
    }
    svg.push(
      `<text x="${BAR_LEFT + BAR_WIDTH + 8}" y="${y + 16}" font-size="12">${
        escapeXml(bar.text)
      }</text>`,
    );
  });
  return { svg, height: height + 20 };
}

function ratioBars(rows: readonly ReportRow[]): Bar[] {
  return rows.filter((row) => row.ratio !== undefined).map((row) => ({
    label: `${row.figure} / ${row.baseline}`,
    value: row.ratio ?? null,
    marker: row.targetRule?.value,
    met: row.met,
    text: row.ratio === null || row.ratio === undefined
      ? `n/a${row.note ? " (skipped)" : ""}`
      : `${roundFigure(row.ratio)}x${row.target ? `, target ${row.target}` : ""}`,
  }));
}

function limitBars(rows: readonly ReportRow[]): Bar[] {
  return rows.filter((row) => row.ratio === undefined && row.targetRule).map((row) => ({
    label: row.figure,
    value: row.value === null ? null : row.value / row.targetRule!.value,
    marker: 1,
    met: row.met,
    text: row.value === null
      ? "n/a"
      : `${roundFigure(row.value)} ${row.unit} (limit ${row.targetRule!.value} ${row.unit})`,
  }));
}

/**
 * Draws the chart.
 *
 * @param rows The report rows.
 * @param caption One line under the title: machine, mode, date.
 * @returns The SVG document.
 */
export function renderChart(rows: readonly ReportRow[], caption: string): string {
  const top = panel(
    "Figure / baseline (log scale; longer is better; dashed line = target)",
    ratioBars(rows),
    TOP + 24,
  );
  const bottomTop = TOP + 24 + top.height + PANEL_GAP;
  const bottom = panel(
    "Figure / its limit (log scale; must stay left of the dashed line at 1x)",
    limitBars(rows),
    bottomTop,
  );
  const height = bottomTop + bottom.height + 40;
  const legend = [
    ["met", COLOURS.met],
    ["not met", COLOURS.notMet],
    ["no target", COLOURS.none],
  ].map(([name, fill], i) =>
    `<rect x="${10 + i * 110}" y="${height - 24}" width="12" height="12" fill="${fill}"/>` +
    `<text x="${26 + i * 110}" y="${height - 14}" font-size="12">${name}</text>`
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH + 140}" height="${height}" ` +
    `font-family="sans-serif" viewBox="0 0 ${WIDTH + 140} ${height}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="22" font-size="16" font-weight="bold">deno task bench: the bank against ` +
    `its baselines</text>`,
    `<text x="10" y="40" font-size="12">${escapeXml(caption)}</text>`,
    ...top.svg,
    ...bottom.svg,
    ...legend,
    "</svg>",
    "",
  ].join("\n");
}
