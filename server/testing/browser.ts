/**
 * Test support: Debian's Chromium, headless, driven by playwright-core, and a place for the
 * screenshots the browser tests save as artifacts.
 *
 * @module
 */

import { type Browser, chromium, type Page } from "playwright-core";
import { REPO_ROOT } from "./bank_process.ts";

/** Where Debian installs Chromium; `.ci/run` installs the package when it is missing. */
export const CHROMIUM_PATH_DEFAULT = "/usr/bin/chromium";

/** Flags for a headless Chromium in a container: no sandbox, no GPU, no calls home. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
] as const;

/** Folder of the screenshots the browser tests save (git ignores it). */
export const ARTIFACTS_DIR = `${REPO_ROOT}test-artifacts`;

/** Laptop and phone viewports the pages are checked and photographed at. */
export const VIEWPORTS = {
  laptop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

/**
 * Starts headless Chromium.
 *
 * @returns The browser; close it when done.
 */
export async function launchChromium(): Promise<Browser> {
  return await chromium.launch({
    executablePath: Deno.env.get("CHROMIUM_PATH") ?? CHROMIUM_PATH_DEFAULT,
    headless: true,
    args: [...CHROMIUM_ARGS],
  });
}

/**
 * Collects what the page reports on its console and as uncaught errors, so a test can assert
 * that the content security policy blocked nothing and no script failed.
 *
 * @param page The page to watch.
 * @returns The messages so far (a live array).
 */
export function watchPageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") {
      problems.push(`${message.type()}: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  return problems;
}

/**
 * Saves a full-page screenshot under {@link ARTIFACTS_DIR}.
 *
 * @param page The page.
 * @param name File name without extension.
 * @returns The path written.
 */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  await Deno.mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = `${ARTIFACTS_DIR}/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * A free TCP port on 127.0.0.1, for a server whose port 0 means something else (the console's
 * `--console-port 0` turns it off). Another process could take it before it is used; on this
 * machine's loopback that does not happen in practice.
 *
 * @returns The port.
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
