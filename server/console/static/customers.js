// The customer page: every customer with balance and lock state, and one customer's last
// transactions on demand.

import { byId, dateTime, el, getJson } from "./common.js";

const KIND_WORDS = {
  opening: "opening balance",
  deposit: "deposit",
  withdraw: "withdrawal",
  transfer_in: "transfer in",
  transfer_out: "transfer out",
};

let customers = [];
let selected = null;

function statusCell(customer) {
  if (!customer.locked) return el("td", { text: "active" });
  return el("td", { text: `locked until ${dateTime(customer.lockedUntil)}`, className: "locked" });
}

function render() {
  const filter = byId("filter").value.trim().toLowerCase();
  const shown = customers.filter((c) => c.name.includes(filter));
  const rows = shown.map((customer) => {
    const button = el("button", {
      text: customer.name,
      className: "link",
      attrs: { type: "button", "data-name": customer.name },
    });
    button.addEventListener("click", () => showHistory(customer.name));
    return el("tr", { className: customer.name === selected ? "selected" : "" }, [
      el("td", {}, [button]),
      el("td", { text: customer.balance, className: "num" }),
      statusCell(customer),
    ]);
  });
  byId("customers").replaceChildren(...rows);
}

async function load() {
  const body = await getJson("/api/customers");
  customers = body.customers;
  byId("customer-count").textContent = String(customers.length);
  byId("customers-note").textContent = body.truncated
    ? `Showing the first ${customers.length} customers by name.`
    : "";
  render();
}

async function showHistory(name) {
  selected = name;
  render();
  byId("detail-title").textContent = `Recent transactions: ${name}`;
  byId("detail-hint").textContent = "Loading…";
  try {
    const body = await getJson(`/api/customers/${encodeURIComponent(name)}`);
    const rows = body.history.map((item) =>
      el("tr", {}, [
        el("td", { text: dateTime(item.at) }),
        el("td", { text: KIND_WORDS[item.kind] ?? item.kind }),
        el("td", { text: item.amount, className: "num" }),
        el("td", { text: item.counterparty ?? "" }),
        el("td", { text: item.balanceAfter, className: "num" }),
      ])
    );
    byId("history").replaceChildren(...rows);
    byId("detail-table").hidden = rows.length === 0;
    byId("detail-hint").textContent = rows.length === 0
      ? "No transactions yet."
      : `Balance now ${body.balance}. Newest first.`;
  } catch (error) {
    byId("detail-table").hidden = true;
    byId("detail-hint").textContent = error.message;
  }
}

byId("filter").addEventListener("input", render);
byId("refresh").addEventListener("click", () => {
  load().catch((error) => (byId("customers-note").textContent = error.message));
});
load().catch((error) => (byId("customers-note").textContent = error.message));
