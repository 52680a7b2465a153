/**
 * The ATM screen's page, script and styles, imported as text so they are part of the module
 * graph: `deno compile` embeds them and nothing is read from disk at run time. No build step:
 * these are the files under `static/` as written.
 *
 * @module
 */

import atmCss from "./static/atm.css" with { type: "text" };
import atmHtml from "./static/atm.html" with { type: "text" };
import atmJs from "./static/atm.js" with { type: "text" };
import faviconSvg from "./static/favicon.svg" with { type: "text" };

/** One file served under `/static/`. */
export interface StaticAsset {
  body: string;
  contentType: string;
}

/** The page served at `/`. */
export const ATM_PAGE: string = atmHtml;

/** Files served under `/static/NAME`. */
export const ATM_STATIC: ReadonlyMap<string, StaticAsset> = new Map([
  ["atm.css", { body: atmCss, contentType: "text/css; charset=utf-8" }],
  ["atm.js", { body: atmJs, contentType: "text/javascript; charset=utf-8" }],
  ["favicon.svg", { body: faviconSvg, contentType: "image/svg+xml" }],
]);
