/**
 * The ATM screen in a real browser: the real `bank serve --demo` process, the real `atm --web`
 * process talking to it over the secure channel, and headless Debian Chromium driven by
 * playwright-core pressing the PIN pad.
 */

import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import {
  runCommand,
  startBankProcess,
  startUntilReady,
} from "../../server/testing/bank_process.ts";
import {
  launchChromium,
  saveScreenshot,
  VIEWPORTS,
  watchPageProblems,
} from "../../server/testing/browser.ts";

/** How long the test waits for `atm --web` to print its address. */
const SCREEN_START_TIMEOUT_MS = 30_000;

/** Page-side checks, as expressions (see the console's browser test for why not callbacks). */
const IN_PAGE = {
  overflow: "document.documentElement.scrollWidth - innerWidth",
};

/** Starts `atm --web --web-port 0` as an operator would and waits for its address. */
async function startScreenProcess(args: string[]) {
  const { ready, log, stop } = await startUntilReady({
    label: "atm --web",
    args: ["run", "--quiet", "-P=atm", "atm/main.ts", "--web", "--web-port", "0", ...args],
    readyPattern: /ATM screen: (http:\/\/127\.0\.0\.1:\d+\/)/,
    timeoutMs: SCREEN_START_TIMEOUT_MS,
  });
  return { url: ready, log, stop };
}

Deno.test({
  name: "atm --web: a customer withdraws with the PIN pad in Chromium",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dataDir = await Deno.makeTempDir({ prefix: "atm-browser-" });
    const bank = await startBankProcess(dataDir, ["--demo"]);
    const credential = `${dataDir}/atms/atm-1.json`;
    const server = `127.0.0.1:${bank.port}`;
    const atm = await startScreenProcess(["--credential", credential, "--server", server]);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: VIEWPORTS.phone });
      const problems = watchPageProblems(page);
      const press = async (keys: string[]) => {
        for (const key of keys) await page.click(`.keypad button[data-key="${key}"]`);
      };

      await t.step("the PIN pad logs alice in without showing her PIN", async () => {
        await page.goto(atm.url);
        await page.waitForSelector("#card-step:not([hidden])");
        await page.fill("#user", "alice");
        await page.click("#card-continue");
        await page.waitForSelector("#entry-step:not([hidden])");
        equal(await page.textContent("#title"), "Enter your PIN");
        await press(["1", "1", "1", "1"]);
        equal(await page.textContent("#entry"), "••••");
        await page.click("#key-enter");
        await page.waitForSelector("#menu-step:not([hidden])");
        equal(await page.textContent("#message"), "Welcome, alice.");
        equal(await page.textContent("#who"), "Logged in: alice");
        const labels = await page.locator("#menu-step button").allTextContents();
        deepStrictEqual(labels, [
          "Balance",
          "Deposit",
          "Withdraw",
          "Transfer",
          "Mini-statement",
          "Quit",
        ]);
      });

      await t.step("a withdrawal goes through with the terminal's words", async () => {
        await page.click("button[data-op=withdraw]");
        equal(await page.textContent("#title"), "Amount to withdraw");
        await press(["2", "0"]);
        equal(await page.textContent("#entry"), "20");
        await page.click("#key-enter");
        await page.waitForSelector("#message.success");
        equal(
          await page.textContent("#message"),
          "Withdrew 20.00. Please take your cash. Balance: 980.00",
        );
        const overflow = await page.evaluate<number>(IN_PAGE.overflow);
        ok(overflow <= 0, `the screen is ${overflow} px wider than the phone`);
        await saveScreenshot(page, "atm-phone");
      });

      await t.step("the bank's ledger holds the withdrawal", async () => {
        const balance = await runCommand("atm", [
          "--user",
          "alice",
          "--credential",
          `${dataDir}/atms/atm-2.json`,
          "--server",
          server,
          "--pin-stdin",
          "balance",
        ], "1111\n");
        equal(balance.code, 0, balance.stderr);
        equal(balance.stdout.trim(), "Balance: 980.00");
      });

      await t.step("a refused withdrawal says why and the menu stays", async () => {
        await page.click("button[data-op=withdraw]");
        await press(["5", "0", "0", "0"]);
        await page.click("#key-enter");
        await page.waitForSelector("#message.error");
        match(await page.textContent("#message") ?? "", /[Ii]nsufficient funds/);
        await page.click("#key-cancel");
        await page.waitForSelector("#menu-step:not([hidden])");
        equal(await page.textContent("#message"), "Cancelled.");
      });

      await t.step("a transfer asks for the recipient, then the amount", async () => {
        await page.click("button[data-op=transfer]");
        await page.waitForSelector("#to-step:not([hidden])");
        await page.fill("#to", "bob");
        await page.click("#to-continue");
        equal(await page.textContent("#entry-label"), "Amount to transfer to bob");
        await press(["1", "0", ".", "5"]);
        await page.click("#key-enter");
        await page.waitForSelector("#message.success");
        equal(await page.textContent("#message"), "Transferred 10.50 to bob. Balance: 969.50");
      });

      await t.step("the mini-statement lists the withdrawal", async () => {
        await page.setViewportSize(VIEWPORTS.laptop);
        await page.click("button[data-op=history]");
        await page.waitForSelector("#statement-step:not([hidden])");
        const statement = await page.textContent("#statement") ?? "";
        match(statement, /Withdrawal\s+-?20\.00\s+980\.00/);
        match(statement, /Transfer to bob\s+-?10\.50\s+969\.50/);
        await saveScreenshot(page, "atm-statement");
        await page.click("#statement-back");
        await saveScreenshot(page, "atm-laptop");
      });

      await t.step("Quit ends the session at the bank", async () => {
        await page.click("button[data-op=quit]");
        await page.waitForSelector("#ended-step:not([hidden])");
        equal(await page.textContent("#message"), "Goodbye. Please take your card.");
        equal(await page.textContent("#who"), "");
      });

      deepStrictEqual(problems, [], "no CSP violation, failed load or script error");
    } finally {
      await browser.close();
      const atmStatus = await atm.stop();
      const bankStatus = await bank.stop();
      equal(atmStatus, 0, atm.log());
      equal(bankStatus, 0, bank.log());
    }
    ok(!atm.log().replaceAll(atm.url, "").includes("1111"), "the ATM never prints a PIN");
    await Deno.remove(dataDir, { recursive: true });
  },
});
