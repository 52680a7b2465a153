/**
 * The interactive ATM the way a customer uses it: the real `atm` process with its permission set
 * runs in a tmux terminal against a real bank process; the test types into the terminal and
 * reads the screen. Needs tmux (`.ci/run` installs it).
 */

import { equal, ok } from "node:assert/strict";
import { REPO_ROOT, startBankProcess } from "../server/testing/bank_process.ts";

/** How long one screen may take to show what the test waits for. */
const SCREEN_WAIT_MS = 20_000;
/** How often the screen is read while waiting. */
const SCREEN_POLL_MS = 100;

async function tmux(...args: string[]): Promise<string> {
  const output = await new Deno.Command("tmux", { args, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(`tmux ${args[0]} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  return text;
}

/** A terminal in its own tmux server, so the test never touches a user's sessions. */
class Terminal {
  readonly #socket = `atm-test-${crypto.randomUUID().slice(0, 8)}`;

  async start(command: string): Promise<void> {
    await tmux("-L", this.#socket, "new-session", "-d", "-x", "100", "-y", "40", command);
  }

  screen(): Promise<string> {
    return tmux("-L", this.#socket, "capture-pane", "-p", "-S", "-200");
  }

  /** Types text; `keys` are tmux key names such as "Enter" or "Down". */
  async type(text: string, ...keys: string[]): Promise<void> {
    if (text !== "") await tmux("-L", this.#socket, "send-keys", "-l", text);
    for (const key of keys) await tmux("-L", this.#socket, "send-keys", key);
  }

  /** Waits until the screen shows `pattern` at least `occurrence` times. */
  async waitFor(pattern: RegExp, occurrence = 1): Promise<string> {
    const deadline = Date.now() + SCREEN_WAIT_MS;
    let screen = "";
    while (Date.now() < deadline) {
      screen = await this.screen();
      const global = new RegExp(pattern.source, pattern.flags.replace("g", "") + "g");
      if ((screen.match(global) ?? []).length >= occurrence) return screen;
      await new Promise((resolve) => setTimeout(resolve, SCREEN_POLL_MS));
    }
    throw new Error(`screen never showed ${pattern} (x${occurrence}):\n${screen}`);
  }

  async close(): Promise<void> {
    await tmux("-L", this.#socket, "kill-server").catch(() => {});
  }
}

/** A prompt waiting for input: clack marks the active one with a filled diamond. */
function active(question: string): RegExp {
  return new RegExp(`◆\\s+${question}`);
}

/**
 * Waits for the menu to be active, then moves its cursor from Balance to the entry at `index`
 * and confirms it. Keys sent before the menu is drawn would be lost.
 */
async function choose(terminal: Terminal, index: number): Promise<void> {
  await terminal.waitFor(active("What would you like to do\\?"));
  await terminal.type("", ...Array(index).fill("Down"), "Enter");
}

const MENU = { balance: 0, deposit: 1, withdraw: 2, transfer: 3, history: 4, quit: 5 };

Deno.test("atm menu in a terminal: PIN without echo, every operation, a bad amount, quit", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "atm-tty-" });
  const bank = await startBankProcess(dataDir, ["--demo"]);
  const terminal = new Terminal();
  try {
    const atm = [
      Deno.execPath(),
      "run",
      "--quiet",
      "--no-prompt",
      "-P=atm",
      `${REPO_ROOT}atm/main.ts`,
      "--credential",
      `${dataDir}/atms/atm-1.json`,
      "--server",
      `127.0.0.1:${bank.port}`,
    ].map((part) => `'${part}'`).join(" ");
    // Keep the pane open after the ATM exits so its last words can be read.
    await terminal.start(`cd '${REPO_ROOT}' && ${atm}; echo "ATM EXITED $?"; sleep 60`);

    await terminal.waitFor(active("User name"));
    await terminal.type("alice", "Enter");
    await terminal.waitFor(active("PIN"));
    await terminal.type("9999", "Enter");
    await terminal.waitFor(active("User name"));
    await terminal.type("alice", "Enter");
    await terminal.waitFor(active("PIN"));
    await terminal.type("1111", "Enter");
    const welcome = await terminal.waitFor(/Welcome, alice/);
    ok(!welcome.includes("1111"), `the PIN was echoed:\n${welcome}`);

    await choose(terminal, MENU.balance);
    await terminal.waitFor(/Balance: 1000\.00/);

    await choose(terminal, MENU.deposit);
    await terminal.waitFor(active("Amount to deposit"));
    await terminal.type("12.50", "Enter");
    await terminal.waitFor(/Deposited 12\.50\. Balance: 1012\.50/);

    await choose(terminal, MENU.withdraw);
    await terminal.waitFor(active("Amount to withdraw"));
    await terminal.type("1.234", "Enter");
    await terminal.waitFor(/two decimal|decimal places|at most 2/i);
    // The prompt stays open after a refused amount: type a good one.
    await terminal.type("", ..."1.234".split("").map(() => "BSpace"));
    await terminal.type("2.50", "Enter");
    await terminal.waitFor(/Withdrew 2\.50\..*Balance: 1010\.00/);

    await choose(terminal, MENU.transfer);
    await terminal.waitFor(active("Transfer to"));
    await terminal.type("bob", "Enter");
    await terminal.waitFor(active("Amount to transfer"));
    await terminal.type("10.00", "Enter");
    await terminal.waitFor(/Transferred 10\.00 to bob\..*Balance: 1000\.00/);

    await choose(terminal, MENU.history);
    const screen = await terminal.waitFor(/Date \(UTC\)\s+Transaction[\s\S]*1000\.00/);
    const statement = screen.slice(screen.lastIndexOf("Date (UTC)"));
    for (const balance of ["1012.50", "1010.00", "1000.00"]) {
      ok(statement.includes(balance), `statement lacks balance ${balance}:\n${statement}`);
    }
    ok(/bob/.test(statement), `statement lacks the transfer to bob:\n${statement}`);

    await choose(terminal, MENU.quit);
    const end = await terminal.waitFor(/ATM EXITED \d+/);
    equal(end.match(/ATM EXITED (\d+)/)?.[1], "0", end);
    ok(!end.includes("1111"), "the PIN never appears on the screen");
  } finally {
    await terminal.close();
    equal(await bank.stop(), 0, bank.log());
    await Deno.remove(dataDir, { recursive: true });
  }
});
