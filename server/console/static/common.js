// Helpers shared by the console pages. Everything from the server is written with textContent,
// never as HTML, so a customer name can never become markup.

/**
 * Creates an element with text and attributes.
 *
 * @param {string} tag
 * @param {{ text?: string, className?: string, attrs?: Record<string, string> }} [options]
 * @param {Node[]} [children]
 * @returns {HTMLElement}
 */
export function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.text !== undefined) node.textContent = options.text;
  if (options.className) node.className = options.className;
  for (const [name, value] of Object.entries(options.attrs ?? {})) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

/**
 * Finds an element of the page by its id.
 *
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  return document.getElementById(id);
}

/** A 24-hour clock: same width for every time, so the feed's time column stays narrow. */
const CLOCK = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };

/**
 * Shows a time of day in the operator's locale.
 *
 * @param {string} iso
 * @returns {string}
 */
export function timeOfDay(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "–" : date.toLocaleTimeString([], CLOCK);
}

/**
 * Shows a date and time in the operator's locale.
 *
 * @param {string} iso
 * @returns {string}
 */
export function dateTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "–" : date.toLocaleString([], {
    dateStyle: "medium",
    timeStyle: "medium",
    hourCycle: "h23",
  });
}

/**
 * Fetches JSON from the console API; a lost session goes back to the sign-in page.
 *
 * @param {string} path
 * @returns {Promise<any>}
 */
export async function getJson(path) {
  const response = await fetch(path, { headers: { accept: "application/json" } });
  if (response.status === 401) {
    location.assign("/login");
    throw new Error("Signed out");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message ?? `The console answered ${response.status}`);
  return body;
}
