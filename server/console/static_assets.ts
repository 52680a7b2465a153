/**
 * The console's pages, scripts and styles, and uPlot from its npm package, imported as text so
 * they are part of the module graph: `deno compile` embeds them with no `--include` flag, and
 * nothing is read from disk or fetched at run time. There is no build step: these are the files
 * under `static/` as written.
 *
 * @module
 */

import auditHtml from "./static/audit.html" with { type: "text" };
import auditJs from "./static/audit.js" with { type: "text" };
import commonJs from "./static/common.js" with { type: "text" };
import consoleCss from "./static/console.css" with { type: "text" };
import customersHtml from "./static/customers.html" with { type: "text" };
import customersJs from "./static/customers.js" with { type: "text" };
import faviconSvg from "./static/favicon.svg" with { type: "text" };
import dashboardHtml from "./static/dashboard.html" with { type: "text" };
import dashboardJs from "./static/dashboard.js" with { type: "text" };
import loginHtml from "./static/login.html" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };

/** One file served under `/static/`. */
export interface StaticAsset {
  body: string;
  contentType: string;
}

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/** Files served under `/static/NAME`, public so the sign-in page can load its styles. */
export const STATIC_ASSETS: ReadonlyMap<string, StaticAsset> = new Map([
  ["console.css", { body: consoleCss, contentType: CSS }],
  ["common.js", { body: commonJs, contentType: JS }],
  ["dashboard.js", { body: dashboardJs, contentType: JS }],
  ["customers.js", { body: customersJs, contentType: JS }],
  ["audit.js", { body: auditJs, contentType: JS }],
  ["uPlot.iife.min.js", { body: uplotJs, contentType: JS }],
  ["uPlot.min.css", { body: uplotCss, contentType: CSS }],
  ["favicon.svg", { body: faviconSvg, contentType: "image/svg+xml" }],
]);

/** The pages, served only to a signed-in operator (except the sign-in page). */
export const PAGES = {
  dashboard: dashboardHtml,
  customers: customersHtml,
  audit: auditHtml,
} as const;

/** Where the sign-in page takes its message. */
const LOGIN_MESSAGE_MARK = "<!--login-message-->";

function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

/**
 * The sign-in page, with an optional message.
 *
 * @param message Shown above the form, escaped.
 * @returns The HTML.
 */
export function loginPage(message?: string): string {
  const note = message === undefined
    ? ""
    : `<p class="error" role="alert" id="login-error">${escapeHtml(message)}</p>`;
  return loginHtml.replace(LOGIN_MESSAGE_MARK, note);
}
