import { assert, assertEquals } from "../../lib/_test_assert.ts";
import { startBankServer } from "../bank_server.ts";
import { provisionAtms } from "../provision.ts";
import { closeSessions, openLoggedInSessions } from "../session_pool.ts";
import { measureBankHandshakes, measureBankRoundTrips } from "./channel.ts";
import { measureIdleSessions } from "./idle_sessions.ts";
import { measureTransactions, MIX } from "./transactions.ts";

const WINDOW = { warmupMs: 0, measureMs: 300 };

Deno.test("MIX holds 50% balance, 25% deposit, 20% withdraw and 5% transfer", () => {
  const share = (op: string) => MIX.filter((slot) => slot === op).length / MIX.length;
  assertEquals(
    [share("balance"), share("deposit"), share("withdraw"), share("transfer")],
    [0.5, 0.25, 0.2, 0.05],
  );
});

Deno.test("the bank workloads run against a real bank process without a failure", async () => {
  const dir = await Deno.makeTempDir();
  const atms = await provisionAtms(`${dir}/bank`, 3);
  const bank = await startBankServer(`${dir}/bank`);
  try {
    const handshakes = await measureBankHandshakes(bank.port, atms, 2, WINDOW);
    assertEquals(handshakes.failures, 0, handshakes.firstFailure);
    assert(handshakes.operations > 0, "no handshake counted");

    const sessions = await openLoggedInSessions(bank.port, atms);
    try {
      const roundTrips = await measureBankRoundTrips(sessions, WINDOW);
      assertEquals(roundTrips.failures, 0, roundTrips.firstFailure);
      assert(roundTrips.operations > 0, "no round trip counted");
      const transactions = await measureTransactions(sessions, WINDOW);
      assertEquals(transactions.failures, 0, transactions.firstFailure);
      assert(transactions.operations > 0, "no transaction counted");
    } finally {
      await closeSessions(sessions);
    }

    const idle = await measureIdleSessions(bank, atms, 6, 10);
    assertEquals(idle.sessions, 6);
    assert(idle.rssAfterBytes > 0 && idle.rssBeforeBytes > 0, "no memory reading");
  } finally {
    assertEquals(await bank.stop(), 0);
    await Deno.remove(dir, { recursive: true });
  }
});
