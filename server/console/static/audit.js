// The audit page: asks the bank to verify its audit log and shows the verdict with its details.

import { byId, dateTime, el, getJson } from "./common.js";

async function verify() {
  const button = byId("verify");
  button.disabled = true;
  byId("verify-status").textContent = "Verifying…";
  try {
    const result = await getJson("/api/audit");
    const verdict = byId("verify-verdict");
    verdict.textContent = result.verdict;
    verdict.className = `verdict ${result.ok ? "ok" : "bad"}`;
    const details = result.details.flatMap(([label, value]) => [
      el("dt", { text: label }),
      el("dd", { text: String(value) }),
    ]);
    byId("verify-details").replaceChildren(...details);
    byId("verify-result").hidden = false;
    byId("verify-result").dataset.ok = String(result.ok);
    byId("verify-status").textContent = `Checked ${dateTime(result.checkedAt)}`;
  } catch (error) {
    byId("verify-status").textContent = error.message;
  } finally {
    button.disabled = false;
  }
}

byId("verify").addEventListener("click", verify);
verify();
