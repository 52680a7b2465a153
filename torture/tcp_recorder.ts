/**
 * Test support: a recording relay on loopback TCP. An ATM connects to the relay, the relay
 * connects to the bank and copies bytes both ways, and keeps everything the ATM sent, so a test
 * can replay a whole real session (handshake, login, requests) to the bank later.
 *
 * @module
 */

/** A running relay. */
export interface TcpRecorder {
  /** The port ATMs connect to. */
  port: number;
  /** Everything clients sent, one byte string per connection, in connection order. */
  recorded(): Uint8Array[];
  /** Stops listening and closes every relayed connection. */
  close(): Promise<void>;
}

async function pump(from: Deno.Conn, to: Deno.Conn, keep?: Uint8Array[]): Promise<void> {
  const buffer = new Uint8Array(16 * 1024);
  try {
    while (true) {
      const count = await from.read(buffer);
      if (count === null) break;
      const chunk = buffer.slice(0, count);
      keep?.push(chunk);
      let written = 0;
      while (written < chunk.length) written += await to.write(chunk.subarray(written));
    }
  } catch { /* either side went away */ }
  try {
    await (to as Deno.TcpConn).closeWrite();
  } catch { /* already closed */ }
}

/**
 * Starts a relay to the bank at `bankPort`.
 *
 * @param bankPort The bank's port on 127.0.0.1.
 * @returns The relay.
 */
export function startTcpRecorder(bankPort: number): TcpRecorder {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const sessions: Uint8Array[][] = [];
  const conns = new Set<Deno.Conn>();
  const relays: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const atm of listener) {
      const chunks: Uint8Array[] = [];
      sessions.push(chunks);
      relays.push((async () => {
        const bank = await Deno.connect({ hostname: "127.0.0.1", port: bankPort });
        conns.add(atm).add(bank);
        await Promise.all([pump(atm, bank, chunks), pump(bank, atm)]);
        for (const conn of [atm, bank]) {
          conns.delete(conn);
          try {
            conn.close();
          } catch { /* closed */ }
        }
      })());
    }
  })().catch(() => {});
  return {
    port: listener.addr.port,
    recorded: () =>
      sessions.map((chunks) => {
        const all = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
        let offset = 0;
        for (const chunk of chunks) {
          all.set(chunk, offset);
          offset += chunk.length;
        }
        return all;
      }),
    async close() {
      listener.close();
      await accepting;
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      await Promise.allSettled(relays);
    },
  };
}
