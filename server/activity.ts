/**
 * The bank's live activity feed: every audited event, as it happens, for the operator console.
 * Listeners run synchronously and must not throw; a slow consumer should buffer on its own side.
 *
 * @module
 */

/** One event as the console sees it: the audit event plus the time it happened. */
export interface ActivityEvent {
  type: string;
  at: string;
  [field: string]: unknown;
}

/** Called for every event. */
export type ActivityListener = (event: ActivityEvent) => void;

/** Fan-out of bank events to in-process listeners. */
export class ActivityFeed {
  #listeners = new Set<ActivityListener>();

  /**
   * Registers a listener.
   *
   * @param listener Called for every later event.
   * @returns A function that removes the listener.
   */
  subscribe(listener: ActivityListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Delivers one event to every listener.
   *
   * @param event The event.
   */
  publish(event: ActivityEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}
