import { assert, assertEquals, assertIncludes } from "../_test_assert.ts";
import { startTestBank, TEST_ATM_ID, type TestBank } from "../_test_bank.ts";
import { BankClient } from "../bank_client.ts";
import { AtmScreen, SCREEN_TEXT } from "./atm_screen.ts";
import { WEB_COOKIE_NAME } from "./constants.ts";
import { atmWebApp } from "./web_app.ts";

const PSK = crypto.getRandomValues(new Uint8Array(32));
const PORT = 4090;
const ORIGIN = `http://127.0.0.1:${PORT}`;

async function withScreen(
  work: (call: ReturnType<typeof caller>, bank: TestBank, screen: AtmScreen) => Promise<void>,
  idleMs?: number,
) {
  const bank = startTestBank({ psk: PSK });
  const screen = new AtmScreen({
    connect: () =>
      new BankClient({
        atmId: TEST_ATM_ID,
        psk: PSK,
        servers: [bank.address],
        retry: { attemptsMax: 1, backoffMsInitial: 1, backoffMsMax: 1 },
      }),
    idleMs,
  });
  try {
    await work(caller(atmWebApp({ screen, port: () => PORT })), bank, screen);
  } finally {
    await screen.close();
    await bank.close();
  }
}

/** Calls the app as the screen's own page would, keeping its cookie like a browser. */
function caller(app: ReturnType<typeof atmWebApp>) {
  let cookie = "";
  return async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await app.request(`${ORIGIN}${path}`, {
      method: "POST",
      headers: {
        host: `127.0.0.1:${PORT}`,
        "content-type": "application/json",
        "sec-fetch-site": "same-origin",
        ...(cookie ? { cookie } : {}),
        ...headers,
      },
      body: JSON.stringify(body),
    });
    const setCookie = response.headers.get("set-cookie");
    if (setCookie !== null) cookie = setCookie.split(";")[0];
    return { status: response.status, setCookie, json: await response.json().catch(() => null) };
  };
}

Deno.test("atmWebApp() logs in with an HttpOnly, Strict cookie and withdraws with the menu's words", async () => {
  await withScreen(async (call, bank) => {
    const login = await call("/api/login", { user: "alice", pin: "1111" });
    assertEquals(login.status, 200);
    assertEquals(login.json, { ok: true, message: "Welcome, alice.", customer: "alice" });
    assertIncludes(login.setCookie ?? "", `${WEB_COOKIE_NAME}=`);
    assertIncludes(login.setCookie ?? "", "HttpOnly");
    assertIncludes(login.setCookie ?? "", "SameSite=Strict");
    const withdraw = await call("/api/action", { op: "withdraw", amount: "20" });
    assertEquals(withdraw.json, {
      ok: true,
      message: "Withdrew 20.00. Please take your cash. Balance: 980.00",
      customer: "alice",
    });
    assertEquals(bank.balanceOf("alice"), 98_000);
    const history = await call("/api/action", { op: "history" });
    assertEquals(history.json.message, "Mini-statement");
    // The test bank keeps no history; the real one's statement is in the browser test.
    assertEquals(history.json.statement, "No transactions yet.");
    const quit = await call("/api/quit", {});
    assertEquals(quit.json, { ok: false, message: SCREEN_TEXT.goodbye, ended: true });
    const after = await call("/api/action", { op: "balance" });
    assertEquals(after.status, 401);
  });
});

Deno.test("atmWebApp() refuses bad amounts and unknown operations before the bank sees them", async () => {
  await withScreen(async (call, bank) => {
    await call("/api/login", { user: "alice", pin: "1111" });
    const before = bank.seen.length;
    const bad = await call("/api/action", { op: "deposit", amount: "12.345" });
    assertEquals(bad.status, 200);
    assertEquals(bad.json, {
      ok: false,
      message: 'Amount has more than two decimals: got "12.345"',
    });
    const unknown = await call("/api/action", { op: "drain" });
    assertEquals(unknown.json, { ok: false, message: "Unknown operation: drain" });
    const notText = await call("/api/action", { op: "withdraw", amount: 5 });
    assertEquals(notText.json, { ok: false, message: "Amount must be text" });
    assertEquals(bank.seen.length, before);
  });
});

Deno.test("atmWebApp() ends the card session after three refused logins", async () => {
  await withScreen(async (call) => {
    for (let attempt = 1; attempt <= 2; attempt++) {
      const refused = await call("/api/login", { user: "alice", pin: "0000" });
      assertEquals(refused.status, 200);
      assertEquals(refused.json.ended, undefined);
    }
    const last = await call("/api/login", { user: "alice", pin: "0000" });
    assertEquals(last.json.ended, true);
    assertEquals(last.json.warning, SCREEN_TEXT.tooManyLogins);
    const again = await call("/api/login", { user: "alice", pin: "1111" });
    assertEquals(again.json.ok, true, "a new card session starts afresh");
  });
});

Deno.test("atmWebApp() refuses a foreign Host, a cross-site request, a form post and no cookie", async () => {
  await withScreen(async (call) => {
    const rebound = await call("/api/login", { user: "alice", pin: "1111" }, {
      host: "rebound.example",
    });
    assertEquals(rebound.status, 421);
    const crossSite = await call("/api/login", { user: "alice", pin: "1111" }, {
      "sec-fetch-site": "cross-site",
      origin: "http://attacker.example",
    });
    assertEquals(crossSite.status, 403);
    const form = await call("/api/login", { user: "alice", pin: "1111" }, {
      "content-type": "application/x-www-form-urlencoded",
    });
    assertEquals(form.status, 415);
    const noCookie = await call("/api/action", { op: "balance" });
    assertEquals(noCookie.status, 401);
    const forged = await call("/api/action", { op: "balance" }, {
      cookie: `${WEB_COOKIE_NAME}=${"0".repeat(64)}`,
    });
    assertEquals(forged.status, 401);
  });
});

Deno.test("atmWebApp() logs a customer out after the idle limit", async () => {
  await withScreen(async (call, _bank, screen) => {
    await call("/api/login", { user: "bob", pin: "2222" });
    assertEquals(screen.customer, "bob");
    await new Promise((resolve) => setTimeout(resolve, 120));
    assertEquals(screen.customer, null);
    const late = await call("/api/action", { op: "balance" });
    assertEquals(late.json, { ok: false, message: SCREEN_TEXT.idle, ended: true });
  }, 50);
});

Deno.test("atmWebApp() serves the page with a strict CSP and no inline script", async () => {
  await withScreen(async () => {
    const screen = new AtmScreen({
      connect: () => {
        throw new Error("unused");
      },
    });
    const app = atmWebApp({ screen, port: () => PORT });
    const response = await app.request(`${ORIGIN}/`, { headers: { host: `127.0.0.1:${PORT}` } });
    assertEquals(response.status, 200);
    const csp = response.headers.get("content-security-policy") ?? "";
    assertIncludes(csp, "default-src 'none'");
    assertIncludes(csp, "script-src 'self'");
    assertIncludes(csp, "frame-ancestors 'none'");
    assertEquals(response.headers.get("x-frame-options"), "DENY");
    assertEquals(response.headers.get("cache-control"), "no-store");
    const html = await response.text();
    assert(!/<script>/.test(html) && !/ on[a-z]+=/.test(html), "no inline script or handler");
  });
});
