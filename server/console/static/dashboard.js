// The live page: one server-sent event stream brings recent history on connect, then every new
// bank event as it happens and, once a second, sessions, totals and the chart.

import { byId, el, timeOfDay } from "./common.js";

/** Feed lines kept on the page; the server sends at most 100 on connect. */
const FEED_LINES_MAX = 200;

/** Alert lines kept on the page. */
const ALERT_LINES_MAX = 50;

const OP_WORDS = { deposit: "deposited", withdraw: "withdrew", transfer: "transferred" };

const REASON_WORDS = {
  unknown_user: "unknown user",
  wrong_pin: "wrong PIN",
  locked: "account locked",
  wrong_password: "wrong password",
  rate_limited: "too many attempts, blocked",
  password_file: "password file unusable",
};

/** Says in words what one event means. */
function describe(item) {
  const f = item.fields;
  const at = f.atmId ? ` at ${f.atmId}` : "";
  switch (item.type) {
    case "tx": {
      const verb = OP_WORDS[f.op] ?? f.op;
      const to = f.counterparty ? ` to ${f.counterparty}` : "";
      const outcome = f.result === "ok"
        ? ""
        : ` — refused: ${String(f.result).replaceAll("_", " ")}`;
      const replay = f.replayed ? " (retry, answered from the ledger)" : "";
      return `${f.customer} ${verb} ${f.amount}${to}${at}${outcome}${replay}`;
    }
    case "login_ok":
      return `${f.customer} logged in${at}`;
    case "logout":
      return `${f.customer} logged out${at}`;
    case "login_failed": {
      const count = f.failedLogins ? `, ${f.failedLogins} in a row` : "";
      return `Failed login for ${f.customer}${at} (${REASON_WORDS[f.reason] ?? f.reason}${count})`;
    }
    case "lockout":
      return `LOCKOUT: ${f.customer} is locked until ${
        timeOfDay(f.until)
      } after too many wrong PINs${at}`;
    case "operator_login":
      return `Operator signed in to the console from ${f.client}`;
    case "operator_logout":
      return `Operator signed out of the console from ${f.client}`;
    case "operator_login_failed":
      return `Failed console sign-in from ${f.client} (${REASON_WORDS[f.reason] ?? f.reason})`;
    case "connection_opened":
      return `ATM ${f.atmId} connected`;
    case "connection_closed":
      return `ATM ${f.atmId} disconnected (${String(f.reason).replaceAll("_", " ")})`;
    case "handshake_failed":
      return `Refused a connection from ${f.remote}: handshake failed (${f.reason})`;
    case "bank_start":
      return `Bank ${f.serverId} started on ${f.address}`;
    case "bank_stop":
      return `Bank ${f.serverId} stopping`;
    default: {
      const details = Object.entries(f).map(([key, value]) => `${key}=${value}`).join(" ");
      return `${item.type.replaceAll("_", " ")} ${details}`.trim();
    }
  }
}

function feedLine(item) {
  const refused = item.type === "tx" && item.fields.result !== "ok";
  const text = el("span", { text: describe(item), className: refused ? "refused" : "" });
  const line = el(
    "li",
    {
      className: item.alert ? "alert" : "",
      // When this page showed the event, to compare with the bank's time of it (`at`).
      attrs: { "data-type": item.type, "data-shown-at": String(Date.now()) },
    },
    [
      el("time", { text: timeOfDay(item.at), attrs: { datetime: item.at } }),
      text,
    ],
  );
  return line;
}

function prepend(list, lines, max) {
  for (const line of lines) list.prepend(line);
  while (list.children.length > max) list.lastElementChild.remove();
}

function addFeed(items, withAlerts) {
  prepend(byId("feed"), items.map(feedLine), FEED_LINES_MAX);
  byId("feed-empty").hidden = byId("feed").children.length > 0;
  if (withAlerts) addAlerts(items.filter((item) => item.alert));
}

function addAlerts(items) {
  const list = byId("alerts");
  prepend(list, items.map(feedLine), ALERT_LINES_MAX);
  const panel = byId("alerts-panel");
  panel.classList.toggle("has-alerts", list.children.length > 0);
  byId("alerts-empty").hidden = list.children.length > 0;
  byId("alert-count").textContent = String(list.children.length);
}

function showSessions(state) {
  const rows = state.sessions.map((s) =>
    el("tr", {}, [
      el("td", { text: s.atmId }),
      el("td", { text: s.customer ?? "— (not logged in)" }),
      el("td", { text: timeOfDay(s.since) }),
      el("td", { text: timeOfDay(s.lastActivity) }),
    ])
  );
  byId("sessions").replaceChildren(...rows);
  byId("sessions-empty").hidden = rows.length > 0;
}

function showTotals(state) {
  byId("total-customers").textContent = String(state.totals.customers);
  byId("total-held").textContent = state.totals.held;
  byId("total-today").textContent = String(state.totals.entriesToday);
  byId("total-atms").textContent = String(state.atmsConnected);
  byId("total-sessions").textContent = String(state.sessionsOpen);
}

let chart = null;
let chartNarrow = false;

/** Below this width the axis titles go, so the plot keeps most of a phone's screen. */
const CHART_NARROW_PX = 560;

function chartWidth() {
  return Math.max(240, byId("chart").clientWidth);
}

function chartHeight() {
  return chartNarrow ? 200 : 240;
}

/** The x axis in the feed's 24-hour clock, one line per label. */
function clock(seconds) {
  return timeOfDay(new Date(seconds * 1000).toISOString());
}

function makeChart(data) {
  chartNarrow = chartWidth() < CHART_NARROW_PX;
  const axisSize = chartNarrow ? 36 : 50;
  const options = {
    width: chartWidth(),
    height: chartHeight(),
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, count: { range: (_u, _min, max) => [0, Math.max(5, max)] } },
    series: [
      {},
      { label: "tx/s", scale: "count", stroke: "#1f5fbf", fill: "rgba(31,95,191,0.12)", width: 2 },
      { label: "p50 ms", scale: "ms", stroke: "#17803d", width: 1.5 },
      { label: "max ms", scale: "ms", stroke: "#b42318", width: 1, dash: [4, 4] },
    ],
    axes: [
      { space: 80, values: (_u, splits) => splits.map((s) => clock(s)) },
      { scale: "count", label: chartNarrow ? undefined : "transactions / s", size: axisSize },
      {
        scale: "ms",
        side: 1,
        label: chartNarrow ? undefined : "latency ms",
        grid: { show: false },
        size: axisSize,
      },
    ],
  };
  chart = new globalThis.uPlot(options, data, byId("chart"));
}

// uPlot fixes axis sizes when it is made: crossing between phone and laptop widths remakes it.
new ResizeObserver(() => {
  if (chart === null) return;
  if ((chartWidth() < CHART_NARROW_PX) !== chartNarrow) {
    const data = chart.data;
    chart.destroy();
    makeChart(data);
  } else {
    chart.setSize({ width: chartWidth(), height: chartHeight() });
  }
}).observe(byId("chart"));

function showChart(state) {
  const c = state.chart;
  const data = [c.seconds, c.count, c.p50Ms, c.maxMs];
  if (chart === null) makeChart(data);
  else chart.setData(data);
  const total = c.count.reduce((sum, n) => sum + n, 0);
  const peak = Math.max(0, ...c.count);
  const slowest = Math.max(0, ...c.maxMs);
  const summary = byId("chart-summary");
  summary.textContent = `${total} ${total === 1 ? "transaction" : "transactions"} in the last ` +
    `${Math.round(c.seconds.length / 60)} minutes · ` +
    `peak ${peak}/s · slowest ${slowest} ms`;
  summary.dataset.total = String(total);
}

function showState(state) {
  showTotals(state);
  showSessions(state);
  showChart(state);
}

function setConnection(kind, text) {
  const status = byId("connection");
  status.className = `status status-${kind}`;
  status.textContent = text;
}

function connect() {
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => setConnection("live", "live"));
  source.addEventListener("snapshot", (message) => {
    const snapshot = JSON.parse(message.data);
    byId("feed").replaceChildren();
    byId("alerts").replaceChildren();
    addFeed(snapshot.recent.feed, false);
    addAlerts(snapshot.recent.alerts);
    byId("one-time-banner").hidden = !snapshot.operator.oneTimePassword;
    showState(snapshot.state);
  });
  source.addEventListener("activity", (message) => {
    const batch = JSON.parse(message.data);
    addFeed(batch.items, true);
    if (batch.dropped > 0) setConnection("wait", `live (skipped ${batch.dropped} events)`);
  });
  source.addEventListener("state", (message) => showState(JSON.parse(message.data)));
  source.addEventListener("signed_out", () => {
    source.close();
    location.assign("/login");
  });
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) {
      // The server refused the stream (signed out, or too many streams): check which.
      fetch("/api/session").then((response) => {
        if (response.status === 401) location.assign("/login");
        else setConnection("down", "disconnected — reload to retry");
      }).catch(() => setConnection("down", "bank unreachable"));
    } else {
      setConnection("wait", "reconnecting…");
    }
  });
}

connect();
