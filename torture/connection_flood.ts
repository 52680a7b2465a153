/**
 * An attacker for the load tests, run as its own process (so its file descriptors and CPU are
 * its own): it keeps `count` TCP connections open to the bank for `durationMs`, none of which
 * ever finishes a handshake. A third stay silent, a third send half an ATM hello, a third dribble
 * a hello one byte a second. Each one the bank closes is opened again at once. At the end it
 * prints one JSON line of counts.
 *
 * `deno run -P=test torture/connection_flood.ts PORT COUNT DURATION_MS`
 *
 * @module
 */

/** Connections opened at once while filling up, so the bank's backlog is not simply overrun. */
const OPEN_BATCH = 200;

/** The first bytes of an ATM hello: frame type 1, a 99-byte body, version 1, id length 5. */
const HELLO_START = new Uint8Array([0x01, 0, 0, 0, 99, 0x01, 5, 0x61, 0x74, 0x6d]);

/** Pause between two bytes of the dribbling connections. */
const DRIBBLE_MS = 1_000;

/** What the flood saw. */
export interface FloodCounts {
  /** Connections opened in all (re-opened ones included). */
  opened: number;
  /** Connections the bank closed (handshake deadline, connection limit). */
  closedByBank: number;
  /** Connects that failed. */
  connectFailures: number;
  /** Most connections open at the same moment. */
  openMax: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Floods the bank until `until` (performance.now()).
 *
 * @param port The bank's port on 127.0.0.1.
 * @param count Connections to hold.
 * @param until When to stop.
 * @returns The counts.
 */
export async function flood(port: number, count: number, until: number): Promise<FloodCounts> {
  const counts: FloodCounts = { opened: 0, closedByBank: 0, connectFailures: 0, openMax: 0 };
  const open = new Set<Deno.Conn>();
  const hold = async (slot: number) => {
    while (performance.now() < until) {
      let conn: Deno.Conn;
      try {
        conn = await Deno.connect({ hostname: "127.0.0.1", port });
      } catch {
        counts.connectFailures++;
        await sleep(100);
        continue;
      }
      counts.opened++;
      open.add(conn);
      counts.openMax = Math.max(counts.openMax, open.size);
      const closed = await keepBusy(conn, slot % 3, until);
      open.delete(conn);
      if (closed) counts.closedByBank++;
      try {
        conn.close();
      } catch { /* closed by the bank */ }
    }
  };
  const holders: Promise<void>[] = [];
  for (let slot = 0; slot < count; slot++) {
    holders.push(hold(slot));
    if (slot % OPEN_BATCH === OPEN_BATCH - 1) await sleep(50);
  }
  await Promise.all(holders);
  return counts;
}

/** Does what one hostile connection does until the bank closes it (true) or time is up. */
async function keepBusy(conn: Deno.Conn, kind: number, until: number): Promise<boolean> {
  const closed = watchClose(conn);
  try {
    if (kind === 1) await conn.write(HELLO_START.subarray(0, 7));
    let sent = 0;
    while (performance.now() < until) {
      const wait = Math.min(DRIBBLE_MS, until - performance.now());
      const ended = await Promise.race([closed, sleep(wait).then(() => false)]);
      if (ended) return true;
      if (kind === 2 && sent < HELLO_START.length) {
        await conn.write(HELLO_START.subarray(sent, sent + 1));
        sent++;
      }
    }
  } catch {
    return true; // a write failed: the bank closed it
  }
  return false;
}

function watchClose(conn: Deno.Conn): Promise<boolean> {
  return (async () => {
    const buffer = new Uint8Array(64);
    try {
      while (await conn.read(buffer) !== null) { /* the failure frame, if any */ }
    } catch { /* reset, or closed by us */ }
    return true;
  })();
}

if (import.meta.main) {
  const [port, count, durationMs] = Deno.args.map(Number);
  if (![port, count, durationMs].every((n) => Number.isSafeInteger(n) && n > 0)) {
    console.error("usage: connection_flood.ts PORT COUNT DURATION_MS");
    Deno.exit(2);
  }
  const counts = await flood(port, count, performance.now() + durationMs);
  console.log(JSON.stringify(counts));
  Deno.exit(0);
}
