/**
 * The live side of the console: it listens to the bank's activity feed, keeps the most recent
 * events and alerts for pages that open later, fans new events out to every open stream, and
 * builds the periodic state (sessions, totals, chart) once per tick for all streams together.
 *
 * The bank never waits for a browser: a stream that falls behind loses its oldest queued events
 * (and is told how many) instead of growing without bound.
 *
 * @module
 */

import { formatCents } from "../../lib/amount.ts";
import type { Bank } from "../bank.ts";
import type { TransactionMetrics } from "../metrics.ts";
import type { SessionRegistry } from "../session_registry.ts";
import {
  ALERTS_MAX,
  CHART_SECONDS,
  FEED_EVENTS_MAX,
  SESSIONS_LISTED_MAX,
  STREAM_QUEUE_EVENTS_MAX,
  STREAM_TICK_MS,
  STREAMS_MAX,
} from "./constants.ts";
import { type FeedItem, toFeedItem } from "./feed_item.ts";

/** An open ATM session as the page shows it. */
export interface SessionRow {
  atmId: string;
  customer: string | null;
  since: string;
  lastActivity: string;
}

/** Everything the page refreshes once per tick. */
export interface LiveState {
  at: string;
  sessions: SessionRow[];
  /** All open sessions, also those past {@link SESSIONS_LISTED_MAX}. */
  sessionsOpen: number;
  atmsConnected: number;
  totals: { customers: number; held: string; entriesToday: number; todaySince: string };
  /** Parallel arrays, one element per second, oldest first (uPlot's data layout). */
  chart: { seconds: number[]; count: number[]; p50Ms: number[]; maxMs: number[] };
}

/** What a page gets when it opens: recent history. */
export interface RecentActivity {
  feed: FeedItem[];
  alerts: FeedItem[];
}

/** What the hub reads from. */
export interface LiveHubOptions {
  bank: Bank;
  registry: SessionRegistry;
  metrics: TransactionMetrics;
  /** Clock in ms since the epoch. */
  now?: () => number;
}

/** New events for one stream since its last read. */
export interface StreamBatch {
  items: FeedItem[];
  /** Events dropped because the stream fell behind. */
  dropped: number;
}

/** One open stream's queue of new events. */
export class StreamSubscription {
  readonly #queue: FeedItem[] = [];
  readonly #onClose: () => void;
  #dropped = 0;
  #wake: (() => void) | null = null;
  #closed = false;

  /** @param onClose Called once when the subscription closes. */
  constructor(onClose: () => void) {
    this.#onClose = onClose;
  }

  /** True once closed; {@link next} then returns null. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Queues an event, dropping the oldest when the queue is full. */
  push(item: FeedItem): void {
    if (this.#closed) return;
    this.#queue.push(item);
    if (this.#queue.length > STREAM_QUEUE_EVENTS_MAX) {
      this.#queue.shift();
      this.#dropped += 1;
    }
    this.#wake?.();
  }

  /**
   * Waits until events arrive or `timeoutMs` passes, and takes what is queued.
   *
   * @param timeoutMs Longest wait.
   * @returns The queued events (possibly none), or null once the subscription is closed.
   */
  async next(timeoutMs: number): Promise<StreamBatch | null> {
    if (this.#queue.length === 0 && !this.#closed) {
      const woken = Promise.withResolvers<void>();
      this.#wake = woken.resolve;
      const timer = setTimeout(woken.resolve, timeoutMs);
      await woken.promise;
      clearTimeout(timer);
      this.#wake = null;
    }
    if (this.#closed) return null;
    const batch = { items: this.#queue.splice(0), dropped: this.#dropped };
    this.#dropped = 0;
    return batch;
  }

  /** Closes the subscription and wakes a pending {@link next}. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    this.#wake?.();
    this.#onClose();
  }
}

function keepLast<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

/** Fans bank activity out to console streams and builds their periodic state. */
export class LiveHub {
  readonly #options: LiveHubOptions;
  readonly #now: () => number;
  readonly #feed: FeedItem[] = [];
  readonly #alerts: FeedItem[] = [];
  readonly #subscriptions = new Set<StreamSubscription>();
  readonly #unsubscribe: () => void;
  #cached: { at: number; state: Promise<LiveState> } | null = null;

  /** Starts listening to the bank's activity feed. */
  constructor(options: LiveHubOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#unsubscribe = options.bank.activity.subscribe((event) => {
      const item = toFeedItem(event);
      keepLast(this.#feed, item, FEED_EVENTS_MAX);
      if (item.alert) keepLast(this.#alerts, item, ALERTS_MAX);
      for (const subscription of this.#subscriptions) subscription.push(item);
    });
  }

  /**
   * Opens a stream: its queue gets every event published from now on, and `recent` holds what
   * came before, so nothing is missed or shown twice.
   *
   * @returns The subscription and recent activity, or null when {@link STREAMS_MAX} are open.
   */
  subscribe(): { subscription: StreamSubscription; recent: RecentActivity } | null {
    if (this.#subscriptions.size >= STREAMS_MAX) return null;
    const subscription = new StreamSubscription(() => this.#subscriptions.delete(subscription));
    this.#subscriptions.add(subscription);
    return { subscription, recent: { feed: [...this.#feed], alerts: [...this.#alerts] } };
  }

  /** Streams open right now. */
  get streams(): number {
    return this.#subscriptions.size;
  }

  /**
   * The current sessions, totals and chart, built at most once per half tick for all streams.
   *
   * @returns The state.
   * @throws {LedgerError} When the ledger cannot be read (e.g. it was closed).
   */
  state(): Promise<LiveState> {
    const now = this.#now();
    if (this.#cached === null || now - this.#cached.at >= STREAM_TICK_MS / 2) {
      const state = this.#buildState(now);
      // A failed read must not be served again from the cache.
      state.catch(() => (this.#cached = null));
      this.#cached = { at: now, state };
    }
    return this.#cached.state;
  }

  async #buildState(now: number): Promise<LiveState> {
    const { bank, registry, metrics } = this.#options;
    const midnight = new Date(now);
    midnight.setHours(0, 0, 0, 0);
    const todaySince = midnight.toISOString();
    const totals = await bank.store.totals(todaySince);
    const open = registry.list();
    const seconds = metrics.lastSeconds(CHART_SECONDS);
    return {
      at: new Date(now).toISOString(),
      sessions: open.slice(0, SESSIONS_LISTED_MAX).map((info) => ({
        atmId: info.atmId,
        customer: info.customer,
        since: info.since,
        lastActivity: info.lastActivity,
      })),
      sessionsOpen: open.length,
      atmsConnected: new Set(open.map((info) => info.atmId)).size,
      totals: {
        customers: totals.customers,
        held: formatCents(totals.heldCents),
        entriesToday: totals.entriesSince,
        todaySince,
      },
      chart: {
        seconds: seconds.map((s) => s.second),
        count: seconds.map((s) => s.count),
        p50Ms: seconds.map((s) => Math.round(s.p50Ms * 100) / 100),
        maxMs: seconds.map((s) => Math.round(s.maxMs * 100) / 100),
      },
    };
  }

  /** Stops listening to the bank and closes every stream. */
  close(): void {
    this.#unsubscribe();
    for (const subscription of [...this.#subscriptions]) subscription.close();
  }
}
