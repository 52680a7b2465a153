import { assert, assertEquals, assertRejects } from "./_test_assert.ts";
import { startTestBank, TEST_ATM_ID, type TestBank, type TestBankOptions } from "./_test_bank.ts";
import { BankClient, type BankClientEvent, type BankClientOptions } from "./bank_client.ts";
import { BankClientError, BankRefusalError } from "./errors.ts";

const PSK = crypto.getRandomValues(new Uint8Array(32));

/** Fast retries so the tests do not wait on production backoff. */
const FAST_RETRY = { attemptsMax: 3, backoffMsInitial: 1, backoffMsMax: 2 };

/** An address on 127.0.0.1 where nothing listens: bound once, then released. */
function refusingAddress(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return `127.0.0.1:${port}`;
}

async function withBanks(
  banks: Omit<TestBankOptions, "psk">[],
  run: (banks: TestBank[]) => Promise<void>,
): Promise<void> {
  const started = banks.map((options) => startTestBank({ psk: PSK, ...options }));
  try {
    await run(started);
  } finally {
    await Promise.all(started.map((bank) => bank.close()));
  }
}

function clientFor(servers: string[], extra: Partial<BankClientOptions> = {}) {
  const events: BankClientEvent[] = [];
  const client = new BankClient({
    atmId: TEST_ATM_ID,
    psk: PSK,
    servers,
    retry: FAST_RETRY,
    onEvent: (event) => events.push(event),
    ...extra,
  });
  return { client, events };
}

const isDeposit = (op: string) => op === "deposit";

Deno.test("BankClient.request() reconnects, logs in again and resends the same id after a drop", async () => {
  let dropped = false;
  const dropOnce = {
    dropAfter: (request: { op: string }) => isDeposit(request.op) && !dropped && (dropped = true),
  };
  await withBanks([dropOnce], async ([bank]) => {
    const { client, events } = clientFor([bank.address]);
    await client.login("alice", "1111");
    const answer = await client.request({ op: "deposit", amount: "50.00" });

    const ops = bank.seen.map(({ connection, request }) => `${connection}:${request.op}`);
    assertEquals(ops, ["1:login", "1:deposit", "2:login", "2:deposit"]);
    const [firstLogin, firstDeposit, secondLogin, resent] = bank.seen.map((seen) => seen.request);
    assertEquals(resent.id, firstDeposit.id, "the resent deposit keeps its id");
    assertEquals(answer.id, firstDeposit.id);
    assert(secondLogin.id !== firstLogin.id, "the new login is a new request");
    // Applied once on the first connection; the resend got the remembered answer.
    assertEquals(answer.replayed, true);
    assertEquals(answer.balance, "1050.00");
    assertEquals(bank.balanceOf("alice"), 105_000);
    assertEquals(events.filter((event) => event.type === "connection_lost").length, 1);
    await client.close();
  });
});

Deno.test("BankClient.login() fails over to the second server when the first refuses", async () => {
  await withBanks([{}], async ([bank]) => {
    const refusing = refusingAddress();
    const { client, events } = clientFor([refusing, bank.address]);
    const answer = await client.login("alice", "1111");
    assertEquals(answer.customer, "alice");
    assertEquals(client.server, bank.address);
    assertEquals(events[0].type, "connect_failed");
    assertEquals(events[0].type === "connect_failed" && events[0].server, refusing);
    assertEquals((await client.request({ op: "balance" })).balance, "1000.00");
    await client.close();
  });
});

Deno.test("BankClient.request() fails over to the next server when the connection drops", async () => {
  await withBanks(
    [{ dropAfter: (request) => isDeposit(request.op) }, {}],
    async ([first, second]) => {
      const { client } = clientFor([first.address, second.address]);
      await client.login("alice", "1111");
      assertEquals(client.server, first.address);
      const answer = await client.request({ op: "deposit", amount: "1.00" });
      assertEquals(client.server, second.address);
      assertEquals(second.seen.map(({ request }) => request.op), ["login", "deposit"]);
      assertEquals(second.seen[1].request.id, first.seen[1].request.id);
      assertEquals(answer.id, first.seen[1].request.id);
      await client.close();
    },
  );
});

Deno.test("BankClient.login() gives up as unreachable after attemptsMax rounds", async () => {
  const servers = [refusingAddress(), refusingAddress()];
  const { client, events } = clientFor(servers);
  const error = await assertRejects(client.login("alice", "1111"), BankClientError);
  assertEquals(error.code, "unreachable");
  assert(error.message.includes(servers[1]), error.message);
  const failed = events.filter((event) => event.type === "connect_failed");
  assertEquals(failed.length, FAST_RETRY.attemptsMax * servers.length);
  assertEquals(
    events.filter((event) => event.type === "retrying").length,
    FAST_RETRY.attemptsMax - 1,
  );
  await client.close();
});

Deno.test("BankClient.request() stops resending after attemptsMax drops", async () => {
  await withBanks([{ dropAfter: (request) => isDeposit(request.op) }], async ([bank]) => {
    const { client } = clientFor([bank.address]);
    await client.login("alice", "1111");
    const error = await assertRejects(
      client.request({ op: "deposit", amount: "2.00" }),
      BankClientError,
    );
    assertEquals(error.code, "unreachable");
    const deposits = bank.seen.filter(({ request }) => request.op === "deposit");
    assertEquals(deposits.length, FAST_RETRY.attemptsMax);
    assertEquals(new Set(deposits.map(({ request }) => request.id)).size, 1);
    assertEquals(bank.balanceOf("alice"), 100_200, "applied once despite every resend");
    await client.close();
  });
});

Deno.test("BankClient.login() reports a wrong PIN as login_failed without the PIN", async () => {
  await withBanks([{}], async ([bank]) => {
    const { client, events } = clientFor([bank.address]);
    const error = await assertRejects(client.login("alice", "9876"), BankRefusalError);
    assertEquals(error.code, "login_failed");
    assert(!error.message.includes("9876"), "the PIN is not in the message");
    assert(!JSON.stringify(events).includes("9876"), "the PIN is not in any event");
    assertEquals(client.customer, null);
    const notLoggedIn = await assertRejects(client.request({ op: "balance" }), BankClientError);
    assertEquals(notLoggedIn.code, "closed");
    await client.close();
  });
});

Deno.test("BankClient.request() passes a refusal on and keeps the session usable", async () => {
  await withBanks([{}], async ([bank]) => {
    const { client } = clientFor([bank.address]);
    await client.login("bob", "2222");
    const error = await assertRejects(
      client.request({ op: "withdraw", amount: "999.00" }),
      BankRefusalError,
    );
    assertEquals(error.code, "insufficient_funds");
    assertEquals((await client.request({ op: "withdraw", amount: "20.00" })).balance, "480.00");
    await client.close();
  });
});

Deno.test("BankClient forgets the login when the re-login after a drop is refused", async () => {
  let dropped = false;
  await withBanks([{
    dropAfter: (request) => request.op === "balance" && !dropped && (dropped = true),
  }], async ([bank]) => {
    const { client } = clientFor([bank.address]);
    await client.login("alice", "1111");
    bank.setPin("alice", "4444");
    const error = await assertRejects(client.request({ op: "balance" }), BankRefusalError);
    assertEquals(error.code, "login_failed");
    assertEquals(client.customer, null);
    const later = await assertRejects(client.request({ op: "balance" }), BankClientError);
    assertEquals(later.code, "closed");
    assertEquals(bank.seen.filter(({ request }) => request.op === "login").length, 2);
    await client.close();
  });
});

Deno.test("BankClient rejects an answer to a different request id", async () => {
  await withBanks([{ mismatchId: (request) => request.op === "balance" }], async ([bank]) => {
    const { client } = clientFor([bank.address]);
    await client.login("alice", "1111");
    const error = await assertRejects(client.request({ op: "balance" }), BankClientError);
    assertEquals(error.code, "protocol");
    await client.close();
  });
});

Deno.test("BankClient.close() logs out and refuses further use", async () => {
  await withBanks([{}], async ([bank]) => {
    const { client } = clientFor([bank.address]);
    await client.login("alice", "1111");
    await client.close();
    assertEquals(bank.seen.at(-1)?.request.op, "logout");
    const error = await assertRejects(client.login("alice", "1111"), BankClientError);
    assertEquals(error.code, "closed");
  });
});

Deno.test("BankClient refuses an empty server list and bad limits", () => {
  let error: unknown;
  try {
    new BankClient({ atmId: TEST_ATM_ID, psk: PSK, servers: [] });
  } catch (caught) {
    error = caught;
  }
  assert(error instanceof BankClientError && error.code === "bad_server", String(error));
  try {
    new BankClient({
      atmId: TEST_ATM_ID,
      psk: PSK,
      servers: ["127.0.0.1:1"],
      retry: { attemptsMax: 0 },
    });
    error = undefined;
  } catch (caught) {
    error = caught;
  }
  assert(error instanceof RangeError, String(error));
});
