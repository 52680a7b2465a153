/**
 * Test-only: a small bank on 127.0.0.1 that speaks the real secure channel from `lib/` and the
 * real messages, with an in-memory ledger that remembers answers by request id (as the real bank
 * does). Tests can make it drop the connection after applying a request and before answering,
 * which is the hard case for an ATM. Nothing outside `*_test.ts` imports this file.
 *
 * @module
 */

import { formatCents, parseAmount } from "../lib/amount.ts";
import { decodeRequest, encodeMessage, type Request, type Response } from "../lib/messages.ts";
import { acceptChannel, type SecureChannel } from "../lib/mod.ts";

/** The ATM the test bank knows. */
export const TEST_ATM_ID = "atm-test";

/** Customers of a fresh test bank: name, PIN, opening balance in cents. */
const CUSTOMERS = [["alice", "1111", 100_000], ["bob", "2222", 50_000]] as const;

/** A request as the test bank received it. */
export interface SeenRequest {
  /** Which accepted connection carried it, counting from 1. */
  connection: number;
  /** The request. */
  request: Request;
}

/** Options for {@link startTestBank}. */
export interface TestBankOptions {
  /** The PSK of {@link TEST_ATM_ID}. */
  psk: Uint8Array<ArrayBuffer>;
  /** Return true to close the connection after applying `request`, without answering. */
  dropAfter?: (request: Request, seen: readonly SeenRequest[]) => boolean;
  /** Return true to answer `request` with a different id (a protocol violation). */
  mismatchId?: (request: Request) => boolean;
}

/** A running test bank. */
export interface TestBank {
  /** `127.0.0.1:port`. */
  address: string;
  /** Every request received, in order. */
  seen: SeenRequest[];
  /** Balance in cents of a customer. */
  balanceOf(name: string): number;
  /** Sets a customer's PIN, e.g. to make a re-login fail. */
  setPin(name: string, pin: string): void;
  /** Stops listening and closes every open connection. */
  close(): Promise<void>;
}

interface Account {
  pin: string;
  cents: number;
}

/**
 * Starts a test bank on a free port of 127.0.0.1.
 *
 * @param options PSK and fault injection.
 * @returns The running bank.
 */
export function startTestBank(options: TestBankOptions): TestBank {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0, transport: "tcp" });
  const accounts = new Map<string, Account>(
    CUSTOMERS.map(([name, pin, cents]) => [name, { pin, cents }]),
  );
  const answered = new Map<string, Response>();
  const seen: SeenRequest[] = [];
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  let connections = 0;

  const serve = async (conn: Deno.Conn, connection: number) => {
    let channel: SecureChannel | null = null;
    let customer: string | null = null;
    try {
      channel = await acceptChannel(conn, {
        lookupPsk: (atmId: string) =>
          Promise.resolve(atmId === TEST_ATM_ID ? options.psk : undefined),
      });
      while (true) {
        const request = decodeRequest(await channel.receive());
        seen.push({ connection, request });
        let response: Response;
        if (request.op === "login") {
          const account = accounts.get(request.user);
          customer = account?.pin === request.pin ? request.user : null;
          response = customer === null
            ? { id: request.id, ok: false, error: "login_failed", message: "Login failed." }
            : { id: request.id, ok: true, op: "login", customer };
        } else {
          response = answered.get(request.id) ?? apply(accounts, customer, request);
          answered.set(request.id, { ...response, ...(response.ok ? { replayed: true } : {}) });
        }
        if (options.dropAfter?.(request, seen)) break;
        if (options.mismatchId?.(request)) response = { ...response, id: crypto.randomUUID() };
        await channel.send(encodeMessage(response));
      }
    } catch {
      // The ATM went away or broke the protocol: end this connection like the real bank does.
    } finally {
      open.delete(conn);
      if (channel !== null) await channel.close().catch(() => {});
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  };

  const acceptLoop = (async () => {
    try {
      for await (const conn of listener) {
        open.add(conn);
        const task = serve(conn, ++connections);
        tasks.add(task);
        task.finally(() => tasks.delete(task));
      }
    } catch { /* listener closed */ }
  })();

  const { port } = listener.addr as Deno.NetAddr;
  return {
    address: `127.0.0.1:${port}`,
    seen,
    balanceOf: (name) => accounts.get(name)!.cents,
    setPin: (name, pin) => {
      accounts.get(name)!.pin = pin;
    },
    async close() {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
      await acceptLoop;
      await Promise.all(tasks);
    },
  };
}

function apply(
  accounts: Map<string, Account>,
  customer: string | null,
  request: Request,
): Response {
  const { id } = request;
  if (customer === null) {
    return { id, ok: false, error: "not_logged_in", message: "Please log in first." };
  }
  const account = accounts.get(customer)!;
  const done = (): Extract<Response, { ok: true }> => ({
    id,
    ok: true,
    op: request.op,
    customer,
    balance: formatCents(account.cents),
  });
  switch (request.op) {
    case "balance":
    case "logout":
      return done();
    case "history":
      return { ...done(), history: [] };
    case "deposit":
      account.cents += parseAmount(request.amount);
      return done();
    case "withdraw":
    case "transfer": {
      const cents = parseAmount(request.amount);
      const target = request.op === "transfer" ? accounts.get(request.to) : undefined;
      if (request.op === "transfer" && target === undefined) {
        return { id, ok: false, error: "unknown_recipient", message: "No such customer." };
      }
      if (cents > account.cents) {
        return { id, ok: false, error: "insufficient_funds", message: "Insufficient funds." };
      }
      account.cents -= cents;
      if (target !== undefined) target.cents += cents;
      return done();
    }
    case "login":
      throw new Error("login is answered by the session");
  }
}
