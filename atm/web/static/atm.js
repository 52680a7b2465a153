// The ATM screen: a small state machine over steps (card, PIN, menu, amount, recipient,
// statement, ended). Every answer's text comes from the ATM process, which words it exactly as
// the terminal menu does; this page only lays it out. Text is set with textContent, never as HTML.

const byId = (id) => document.getElementById(id);

/** Longest PIN and amount the pad takes; the bank checks them again. */
const PIN_CHARS_MAX = 12;
const AMOUNT_CHARS_MAX = 12;

const STEPS = ["card-step", "to-step", "entry-step", "menu-step", "statement-step", "ended-step"];

const PROMPTS = {
  deposit: "Amount to deposit",
  withdraw: "Amount to withdraw",
  transfer: "Amount to transfer",
};

/** What the pad is typing into: null, or { kind: "pin" | "amount", value, op?, to? }. */
let entry = null;
let user = "";
let busy = false;

function show(step, title) {
  for (const id of STEPS) byId(id).hidden = id !== step;
  byId("title").textContent = title;
  document.body.dataset.step = step;
  const first = byId(step).querySelector("input");
  if (first) first.focus();
}

function say(message, kind = "info", warning = "") {
  const line = byId("message");
  line.textContent = message;
  line.className = `message ${kind}`;
  byId("warning").textContent = warning;
  byId("warning").hidden = warning === "";
}

function setCustomer(name) {
  byId("who").textContent = name ? `Logged in: ${name}` : "";
}

function renderEntry() {
  const shown = entry === null
    ? ""
    : entry.kind === "pin"
    ? "•".repeat(entry.value.length)
    : entry.value;
  byId("entry").textContent = shown === "" ? " " : shown;
  byId("entry").dataset.length = String(entry?.value.length ?? 0);
}

async function post(path, body = {}) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({
    ok: false,
    message: `The ATM answered ${response.status}.`,
  }));
  return answer;
}

function startCard(message = "", kind = "info", warning = "") {
  entry = null;
  setCustomer("");
  show("card-step", "Welcome");
  byId("user").value = user;
  say(message || "Enter your user name to begin.", kind, warning);
}

function askPin() {
  entry = { kind: "pin", value: "" };
  renderEntry();
  byId("entry-label").textContent = `PIN for ${user}`;
  show("entry-step", "Enter your PIN");
}

function showMenu(message = "", kind = "info", warning = "") {
  entry = null;
  show("menu-step", "What would you like to do?");
  say(message, kind, warning);
}

function ended(answer) {
  entry = null;
  setCustomer("");
  show("ended-step", "Thank you");
  say(answer.message, answer.ok ? "success" : "info", answer.warning ?? "");
}

function askAmount(op, to) {
  entry = { kind: "amount", value: "", op, to };
  renderEntry();
  byId("entry-label").textContent = to ? `${PROMPTS[op]} to ${to}` : PROMPTS[op];
  show("entry-step", PROMPTS[op]);
  say("Type the amount, e.g. 20 or 12.50, then press Enter.");
}

async function submitPin() {
  const pin = entry.value;
  entry.value = "";
  renderEntry();
  say("Checking your PIN…");
  const answer = await post("/api/login", { user, pin });
  if (answer.ok) {
    setCustomer(answer.customer);
    showMenu(answer.message, "success");
  } else if (answer.ended) {
    startCard(answer.message, "error", answer.warning ?? "");
  } else {
    say(answer.message, "error");
  }
}

async function runOperation(body) {
  say("Please wait…");
  const answer = await post("/api/action", body);
  if (answer.ok && answer.statement !== undefined) {
    entry = null;
    byId("statement").textContent = answer.statement;
    show("statement-step", answer.message);
    say("");
  } else if (answer.ok) {
    showMenu(answer.message, "success");
  } else if (answer.ended) {
    ended(answer);
  } else if (entry?.kind === "amount") {
    say(answer.message, "error", answer.warning ?? "");
  } else {
    showMenu(answer.message, "error", answer.warning ?? "");
  }
}

async function enter() {
  if (entry === null || entry.value === "") return;
  if (entry.kind === "pin") return await submitPin();
  const body = { op: entry.op, amount: entry.value };
  if (entry.to) body.to = entry.to;
  entry.value = "";
  renderEntry();
  await runOperation(body);
}

async function cancel() {
  if (entry?.kind === "amount" || document.body.dataset.step === "to-step") {
    showMenu("Cancelled.");
  } else if (document.body.dataset.step === "menu-step") {
    await quit();
  } else {
    startCard("Cancelled.");
  }
}

async function quit() {
  ended(await post("/api/quit"));
}

function press(key) {
  if (entry === null) return;
  const max = entry.kind === "pin" ? PIN_CHARS_MAX : AMOUNT_CHARS_MAX;
  if (entry.kind === "pin" && !/^[0-9]+$/.test(key)) return;
  if (key === "." && entry.value.includes(".")) return;
  if ((entry.value + key).length > max) return;
  entry.value += key;
  renderEntry();
}

/** Runs one step at a time: a second tap while the bank answers does nothing. */
function once(work) {
  return async (...args) => {
    if (busy) return;
    busy = true;
    document.body.classList.add("busy");
    try {
      await work(...args);
    } catch {
      say("The ATM is not answering. Please try again.", "error");
    } finally {
      busy = false;
      document.body.classList.remove("busy");
    }
  };
}

for (const button of document.querySelectorAll("[data-key]")) {
  button.addEventListener("click", () => press(button.dataset.key));
}
byId("key-enter").addEventListener("click", once(enter));
byId("key-clear").addEventListener("click", () => {
  if (entry === null) return;
  entry.value = "";
  renderEntry();
});
byId("key-cancel").addEventListener("click", once(cancel));

byId("card-step").addEventListener("submit", (event) => {
  event.preventDefault();
  user = byId("user").value.trim();
  if (user === "") return say("User name must not be empty", "error");
  say("Use the PIN pad, then press Enter.");
  askPin();
});

byId("to-step").addEventListener("submit", (event) => {
  event.preventDefault();
  const to = byId("to").value.trim();
  if (to === "") return say("Recipient must not be empty", "error");
  askAmount("transfer", to);
});

for (const button of document.querySelectorAll("[data-op]")) {
  button.addEventListener(
    "click",
    once(async () => {
      const op = button.dataset.op;
      if (op === "quit") return await quit();
      if (op === "balance" || op === "history") return await runOperation({ op });
      if (op === "transfer") {
        byId("to").value = "";
        show("to-step", "Transfer");
        return say("Who should receive the money?");
      }
      askAmount(op);
    }),
  );
}

byId("statement-back").addEventListener("click", () => showMenu());
byId("start-again").addEventListener("click", () => startCard());

// The physical keyboard works like the pad while the pad is in use.
document.addEventListener("keydown", (event) => {
  if (entry === null || event.target instanceof HTMLInputElement) return;
  if (/^[0-9.]$/.test(event.key)) press(event.key);
  else if (event.key === "Backspace") {
    entry.value = entry.value.slice(0, -1);
    renderEntry();
  } else if (event.key === "Enter") once(enter)();
  else if (event.key === "Escape") once(cancel)();
  else return;
  event.preventDefault();
});

const state = await post("/api/state").catch(() => ({ customer: null, presetUser: null }));
user = state.presetUser ?? "";
if (state.customer) {
  setCustomer(state.customer);
  showMenu(`Welcome back, ${state.customer}.`);
} else {
  startCard();
}
