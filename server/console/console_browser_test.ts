/**
 * The operator console in a real browser: the real `bank serve --demo` process with its console
 * on a free loopback port, headless Debian Chromium driven by playwright-core, and real scripted
 * `atm` processes making the activity the console has to show.
 */

import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import type { Page } from "playwright-core";
import { type BankProcess, runCommand, startBankProcess } from "../testing/bank_process.ts";
import {
  freePort,
  launchChromium,
  saveScreenshot,
  VIEWPORTS,
  watchPageProblems,
} from "../testing/browser.ts";
import { BankClient } from "../../atm/bank_client.ts";
import { readCredential } from "../../lib/mod.ts";
import { SESSION_COOKIE_NAME } from "./constants.ts";

/** The bar: a deposit shows in the feed within one second. */
const FEED_DELAY_MS_MAX = 1_000;

/** How long the test waits for something that comes with the next once-a-second state. */
const STATE_WAIT_MS = 5_000;

/**
 * Page-side checks, as expressions evaluated in the page. Strings and not callbacks: the DOM
 * library's types would clash with Deno's in the modules this test imports.
 */
const IN_PAGE = {
  cookie: "document.cookie",
  chartPixels: "document.querySelector('#chart canvas').toDataURL()",
  chartFits: "document.querySelector('#chart .uplot').offsetWidth <= innerWidth",
  overflow: "document.documentElement.scrollWidth - innerWidth",
  chartTotalAbove: (previous: number) =>
    `Number(document.querySelector('#chart-summary').dataset.total) > ${previous}`,
  alertLooks: `(() => {
    const panel = getComputedStyle(document.querySelector('#alerts-panel'));
    const quiet = getComputedStyle(document.querySelector('#feed').closest('.panel'));
    const text = getComputedStyle(document.querySelector('#alerts li[data-type=lockout] span'));
    return {
      border: panel.borderTopColor,
      background: panel.backgroundColor,
      quiet: quiet.backgroundColor,
      weight: Number(text.fontWeight),
    };
  })()`,
};

/** How long the test waits for the one-time password line after the bank listens. */
const PASSWORD_WAIT_MS = 10_000;

const WRONG_PASSWORD = "definitely-not-the-password";

async function oneTimePassword(bank: BankProcess): Promise<string> {
  const deadline = Date.now() + PASSWORD_WAIT_MS;
  while (Date.now() < deadline) {
    const found = bank.log().match(/One-time operator password: (\S+)/);
    if (found) return found[1];
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the bank printed no one-time password:\n${bank.log()}`);
}

function scriptedAtm(bank: BankProcess, user: string, pin: string, action: string[]) {
  return runCommand("atm", [
    "--user",
    user,
    "--credential",
    `${bank.dataDir}/atms/atm-1.json`,
    "--server",
    `127.0.0.1:${bank.port}`,
    "--pin-stdin",
    ...action,
  ], `${pin}\n`);
}

/** Sends one raw HTTP request, so the test controls every header (fetch fixes Host itself). */
async function rawStatus(port: number, request: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(request));
    const buffer = new Uint8Array(1024);
    const n = await conn.read(buffer);
    return new TextDecoder().decode(buffer.subarray(0, n ?? 0)).split("\r\n")[0];
  } finally {
    conn.close();
  }
}

/**
 * Waits until an expression is true in the page. Polled from outside with `evaluate`, because
 * playwright's `waitForFunction` evaluates strings inside the page, which the console's CSP
 * (rightly) forbids.
 */
async function waitInPage(page: Page, expression: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await page.evaluate<boolean>(expression)) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms: ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function chartTotal(page: Page): Promise<number> {
  return Number(await page.getAttribute("#chart-summary", "data-total") ?? "-1");
}

Deno.test({
  name: "console: sign-in, live feed, chart, lockout alert, customers and audit in Chromium",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "console-browser-" });
    const consolePort = freePort();
    const bank = await startBankProcess(dataDir, ["--demo", "--console-port", String(consolePort)]);
    const base = `http://127.0.0.1:${consolePort}`;
    const browser = await launchChromium();
    let password = "";
    let totalBefore = -1;
    let pixelsBefore = "";
    let carol: BankClient | undefined;
    try {
      password = await oneTimePassword(bank);
      const context = await browser.newContext({ viewport: VIEWPORTS.laptop });
      const page = await context.newPage();
      const problems = watchPageProblems(page);

      await t.step("requests without a session are refused", async () => {
        const api = await fetch(`${base}/api/customers`);
        equal(api.status, 401);
        deepStrictEqual(await api.json(), { error: "not_signed_in", message: "Sign in first" });
        const stream = await fetch(`${base}/api/events`);
        equal(stream.status, 401);
        await stream.body?.cancel();
        for (const path of ["/", "/customers", "/audit"]) {
          const pageResponse = await fetch(`${base}${path}`, { redirect: "manual" });
          equal(pageResponse.status, 303, path);
          equal(pageResponse.headers.get("location"), "/login", path);
          await pageResponse.body?.cancel();
        }
        const forged = await fetch(`${base}/api/customers`, {
          headers: { cookie: `${SESSION_COOKIE_NAME}=forged-token` },
        });
        equal(forged.status, 401);
        await forged.body?.cancel();
      });

      await t.step("every answer carries the CSP and security headers", async () => {
        const response = await fetch(`${base}/login`);
        await response.body?.cancel();
        const csp = response.headers.get("content-security-policy") ?? "";
        for (
          const directive of [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'none'",
          ]
        ) ok(csp.split("; ").includes(directive), `CSP lacks ${directive}: ${csp}`);
        ok(!csp.includes("unsafe-inline") && !csp.includes("unsafe-eval"), csp);
        equal(response.headers.get("x-frame-options"), "DENY");
        equal(response.headers.get("x-content-type-options"), "nosniff");
        equal(response.headers.get("referrer-policy"), "no-referrer");
        equal(response.headers.get("cross-origin-opener-policy"), "same-origin");
        equal(response.headers.get("cache-control"), "no-store");
        const script = await fetch(`${base}/static/dashboard.js`);
        await script.body?.cancel();
        ok(script.headers.get("content-security-policy"), "static files carry the CSP too");
      });

      await t.step("a foreign Host and a cross-site sign-in are refused", async () => {
        const foreign = await rawStatus(
          consolePort,
          "GET /login HTTP/1.1\r\nHost: rebound.example\r\nConnection: close\r\n\r\n",
        );
        match(foreign, /^HTTP\/1\.1 421/);
        const crossSite = await fetch(`${base}/login`, {
          method: "POST",
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            "origin": "http://attacker.example",
            "sec-fetch-site": "cross-site",
          },
          body: new URLSearchParams({ password }),
        });
        equal(crossSite.status, 403);
        equal(crossSite.headers.get("set-cookie"), null);
        await crossSite.body?.cancel();
      });

      await t.step("a wrong password is refused and sets no cookie", async () => {
        await page.goto(`${base}/login`);
        await page.fill("#password", WRONG_PASSWORD);
        const [response] = await Promise.all([
          page.waitForResponse((r) =>
            r.url() === `${base}/login` && r.request().method() === "POST"
          ),
          page.click("button[type=submit]"),
        ]);
        equal(response.status(), 401);
        equal(await page.textContent("#login-error"), "Wrong password.");
        deepStrictEqual(await context.cookies(), []);
        // Chromium reports the 401 answer on its console; that one is expected.
        deepStrictEqual(problems.splice(0), [
          "error: Failed to load resource: the server responded with a status of 401 (Unauthorized)",
        ]);
        await saveScreenshot(page, "console-login-refused");
      });

      await t.step("the one-time password signs in with an HttpOnly, Strict cookie", async () => {
        await page.fill("#password", password);
        const [response] = await Promise.all([
          page.waitForResponse((r) =>
            r.url() === `${base}/login` && r.request().method() === "POST"
          ),
          page.click("button[type=submit]"),
        ]);
        equal(response.status(), 303);
        const setCookie = (await response.headerValue("set-cookie")) ?? "";
        match(setCookie, new RegExp(`^${SESSION_COOKIE_NAME}=`));
        match(setCookie, /; HttpOnly/);
        match(setCookie, /; SameSite=Strict/);
        await page.waitForURL(`${base}/`);
        const cookies = await context.cookies();
        equal(cookies.length, 1);
        equal(cookies[0].name, SESSION_COOKIE_NAME);
        equal(cookies[0].httpOnly, true);
        equal(cookies[0].sameSite, "Strict");
        equal(cookies[0].path, "/");
        equal(await page.evaluate(IN_PAGE.cookie), "", "page scripts cannot read it");
        await page.waitForSelector("#connection.status-live");
        ok(await page.isVisible("#one-time-banner"), "the one-time password banner shows");
        await page.waitForSelector("#feed li[data-type=operator_login]");
      });

      await t.step("a scripted ATM's deposit appears in the feed within one second", async () => {
        await page.waitForSelector("#chart-summary[data-total]");
        totalBefore = await chartTotal(page);
        pixelsBefore = await page.evaluate<string>(IN_PAGE.chartPixels);
        const deposit = await scriptedAtm(bank, "alice", "1111", ["deposit", "12.34"]);
        equal(deposit.code, 0, deposit.stderr);
        const atmDone = Date.now();
        const line = page.locator("#feed li[data-type=tx]", { hasText: "alice deposited 12.34" });
        // The deposit was acknowledged before the ATM exited: from then, one second at most.
        await line.waitFor({ timeout: Math.max(1, atmDone + FEED_DELAY_MS_MAX - Date.now()) });
        const shownAt = Number(await line.getAttribute("data-shown-at"));
        const bankAt = Date.parse(await line.locator("time").getAttribute("datetime") ?? "");
        const delay = shownAt - bankAt;
        ok(delay >= 0 && delay < FEED_DELAY_MS_MAX, `shown ${delay} ms after the bank's event`);
      });

      await t.step("the chart counts the deposit", async () => {
        await waitInPage(page, IN_PAGE.chartTotalAbove(totalBefore), STATE_WAIT_MS);
        equal(await chartTotal(page), totalBefore + 1);
        const pixels = await page.evaluate<string>(IN_PAGE.chartPixels);
        ok(pixels !== pixelsBefore, "the chart was redrawn");
      });

      await t.step("an open ATM session is listed with its customer", async () => {
        const { atmId, psk } = await readCredential(`${bank.dataDir}/atms/atm-3.json`);
        carol = new BankClient({ atmId, psk, servers: [`127.0.0.1:${bank.port}`] });
        psk.fill(0);
        await carol.login("carol", "3333");
        const row = page.locator("#sessions tr", { hasText: "carol" });
        await row.waitFor({ timeout: STATE_WAIT_MS });
        equal(await row.locator("td").first().textContent(), "atm-3");
        equal(await page.textContent("#total-atms"), "1");
      });

      await t.step("five wrong PINs raise a lockout alert that stands out", async () => {
        for (let attempt = 1; attempt <= 5; attempt++) {
          const login = await scriptedAtm(bank, "bob", "0000", ["balance"]);
          equal(login.code, 3, login.stderr);
        }
        const alert = page.locator("#alerts li[data-type=lockout]", { hasText: "LOCKOUT: bob" });
        await alert.waitFor({ timeout: STATE_WAIT_MS });
        ok(await page.locator("#alerts-panel.has-alerts").isVisible());
        equal(await page.locator("#alerts li[data-type=login_failed]").count(), 5);
        const colours = await page.evaluate<
          { border: string; background: string; quiet: string; weight: number }
        >(IN_PAGE.alertLooks);
        ok(colours.background !== colours.quiet, "the alert panel is tinted");
        equal(colours.border, "rgb(180, 35, 24)");
        ok(colours.weight >= 600, "the lockout line is bold");
        await saveScreenshot(page, "console-laptop");
      });

      await t.step("the live page fits a phone's width", async () => {
        await page.setViewportSize(VIEWPORTS.phone);
        await waitInPage(page, IN_PAGE.chartFits, STATE_WAIT_MS);
        const overflow = await page.evaluate<number>(IN_PAGE.overflow);
        ok(overflow <= 0, `the page is ${overflow} px wider than the phone`);
        await saveScreenshot(page, "console-phone");
        await page.setViewportSize(VIEWPORTS.laptop);
      });

      await t.step("the customer list shows balances and recent transactions", async () => {
        await page.click("nav a[href='/customers']");
        const alice = page.locator("#customers tr", { hasText: "alice" });
        await alice.waitFor();
        equal((await alice.locator("td.num").textContent())?.trim(), "1012.34");
        ok(
          (await page.locator("#customers tr", { hasText: "bob" }).textContent())?.includes(
            "locked until",
          ),
        );
        await page.click("button[data-name=alice]");
        const deposit = page.locator("#history tr", { hasText: "12.34" });
        await deposit.waitFor();
        ok((await deposit.textContent())?.includes("deposit"));
        await saveScreenshot(page, "console-customers");
      });

      await t.step("the audit page verifies the log", async () => {
        await page.click("nav a[href='/audit']");
        await page.waitForSelector("#verify-result[data-ok]");
        equal(await page.getAttribute("#verify-result", "data-ok"), "true");
        match(await page.textContent("#verify-verdict") ?? "", /^Verified: \d+ records/);
        await saveScreenshot(page, "console-audit");
      });

      await t.step("signing out ends the session", async () => {
        const token = (await context.cookies())[0].value;
        await page.click(".signout button");
        await page.waitForURL(`${base}/login`);
        deepStrictEqual(await context.cookies(), []);
        const replay = await fetch(`${base}/api/customers`, {
          headers: { cookie: `${SESSION_COOKIE_NAME}=${token}` },
        });
        equal(replay.status, 401, "the old token no longer works");
        await replay.body?.cancel();
      });

      deepStrictEqual(problems, [], "no CSP violation, failed load or script error");
    } finally {
      await carol?.close();
      await browser.close();
      const status = await bank.stop();
      equal(status, 0, bank.log());
    }

    await t.step(
      "sign-ins are in the audit log, the password nowhere but its one print",
      async () => {
        const decrypted = await runCommand("bank", ["audit", "--decrypt", "--data", dataDir]);
        equal(decrypted.code, 0, decrypted.stderr);
        const events = decrypted.stdout.trim().split("\n").map((line) => JSON.parse(line));
        const operator = events.filter((event) => event.type.startsWith("operator_"));
        deepStrictEqual(
          operator.map((event) => [event.type, event.reason ?? null, event.client]),
          [
            ["operator_login_failed", "wrong_password", "127.0.0.1"],
            ["operator_login", null, "127.0.0.1"],
            ["operator_logout", null, "127.0.0.1"],
          ],
        );
        ok(!decrypted.stdout.includes(password), "the audit log never holds the password");
        ok(!decrypted.stdout.includes(WRONG_PASSWORD), "nor a wrong one");
        equal(bank.log().split(password).length - 1, 1, "printed exactly once");
        ok(!bank.log().includes(WRONG_PASSWORD));
      },
    );
    await Deno.remove(dataDir, { recursive: true });
  },
});
