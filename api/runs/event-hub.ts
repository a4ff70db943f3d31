/** One LISTEN connection per API process, fanning run-event notifications out to the streams of each run. */
import type { Sql } from "../../db/client.ts";
import { readRunEvents, RUN_EVENTS_CHANNEL, RUN_FINAL_CHANNEL, type RunEvent } from "../../db/run-events.ts";
import type { Logger } from "../logger.ts";

const BATCH = 500;
/** Events queued for a client before it stops taking more; it reads them again once it has written these. */
const MAX_QUEUED = 2_000;

interface SubscriptionHooks {
  closed(sub: Subscription): void;
  /** The client caught up after falling behind: its feed must read for it again. */
  drained(sub: Subscription): void;
}

/** One client's queue of events not yet written, and how far it has been fed. */
export class Subscription {
  private queue: RunEvent[] = [];
  private wake: (() => void) | null = null;
  closed = false;
  /** A slow client's queue is full: reads skip it rather than buffer without bound. */
  lagging = false;

  /**
   * `endOnly`: the subscriber only looks for the run's end (a `?wait`), so the run's other events need not be read
   * for it as they come; they arrive with the final one.
   */
  constructor(public cursor: bigint, private readonly hooks: SubscriptionHooks, readonly endOnly = false) {}

  /** Takes events read from `from` on; a batch starting past the cursor would leave a gap, so it waits. */
  offer(from: bigint, events: RunEvent[]) {
    if (this.closed || this.lagging || from > this.cursor) return;
    if (this.queue.length >= MAX_QUEUED) {
      this.lagging = true;
      return;
    }
    const before = this.queue.length;
    for (const event of events) {
      const id = BigInt(event.id);
      if (id <= this.cursor) continue;
      this.queue.push(event);
      this.cursor = id;
    }
    // Only news wakes the writer: an empty read ending its wait would make it poke again, in a loop.
    if (this.queue.length > before) this.wake?.();
  }

  /** The queued events, waiting up to `timeoutMs` for some; empty on timeout or when closed. */
  async next(timeoutMs: number): Promise<RunEvent[]> {
    if (!this.queue.length && !this.closed) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
      this.wake = null;
    }
    const out = this.queue;
    this.queue = [];
    if (this.lagging) {
      this.lagging = false;
      this.hooks.drained(this);
    }
    return out;
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.hooks.closed(this);
    this.wake?.();
  }
}

interface Feed {
  subs: Set<Subscription>;
  reading: boolean;
  /** Set when something may have arrived during a read; the read loop goes round again. */
  dirty: boolean;
}

/** Idle streams get a comment this often so proxies keep them open, and their feed re-reads (api/runs/events.ts). */
const HEARTBEAT_MS = 15_000;

/**
 * One per app (a service: api/env.ts, created in main or by createApp). `closeAll` ends its open streams: a
 * graceful server shutdown waits for in-flight responses, and a live stream would otherwise hold it until its
 * run ends.
 */
export class RunEventHub {
  /** How often an idle stream writes a keep-alive comment (tests shorten it). */
  heartbeatMs = HEARTBEAT_MS;
  private listening: Promise<unknown> | null = null;
  private closed = false;
  private readonly feeds = new Map<string, Feed>();

  constructor(private readonly sql: Sql, private readonly logger: Logger) {}

  /** Reads of run events made so far (each one query), for tests and profiling. */
  reads = 0;

  /**
   * Subscribes to a run's events after `afterId`. Listening is established first and the replay is simply the
   * feed's first read, so an event committed at any moment is either replayed or notified, never neither. An
   * `endOnly` subscriber's feed is read again only when the run ends (or a stream shares the feed).
   */
  async subscribe(runId: string, afterId: bigint, endOnly = false): Promise<Subscription> {
    if (this.closed) throw new Error("the server is shutting down");
    await this.listen();
    const sub = new Subscription(afterId, {
      closed: (s) => this.unsubscribe(runId, s),
      drained: () => this.poke(runId),
    }, endOnly);
    let feed = this.feeds.get(runId);
    if (!feed) this.feeds.set(runId, feed = { subs: new Set(), reading: false, dirty: false });
    feed.subs.add(sub);
    this.poke(runId);
    return sub;
  }

  /** Reads the run's new events once for all its subscribers; reads coalesce while one is in flight. */
  poke(runId: string) {
    const feed = this.feeds.get(runId);
    if (!feed) return;
    feed.dirty = true;
    if (!feed.reading) void this.read(runId, feed);
  }

  get subscriberCount(): number {
    let n = 0;
    for (const feed of this.feeds.values()) n += feed.subs.size;
    return n;
  }

  /** Ends every stream (they finish their response; clients reconnect with Last-Event-ID), as for shutdown. */
  closeAll() {
    this.closed = true;
    for (const feed of [...this.feeds.values()]) for (const sub of [...feed.subs]) sub.close();
  }

  private async read(runId: string, feed: Feed) {
    feed.reading = true;
    try {
      while (feed.dirty && feed.subs.size) {
        feed.dirty = false;
        for (;;) {
          // From the least advanced subscriber; the others skip what they already have.
          let from: bigint | null = null;
          for (const sub of feed.subs) if (!sub.lagging && (from === null || sub.cursor < from)) from = sub.cursor;
          if (from === null) break;
          this.reads++;
          const events = await readRunEvents(this.sql, runId, from.toString(), BATCH);
          for (const sub of feed.subs) sub.offer(from, events);
          if (events.length < BATCH) break;
        }
      }
    } catch (err) {
      // The streams' idle heartbeats poke again, so a transient database error only delays events.
      this.logger.warn("reading run events failed", { run_id: runId, error: (err as Error).message });
    } finally {
      feed.reading = false;
    }
  }

  private unsubscribe(runId: string, sub: Subscription) {
    const feed = this.feeds.get(runId);
    if (!feed) return;
    feed.subs.delete(sub);
    if (!feed.subs.size) this.feeds.delete(runId);
  }

  /** An event was appended: read it for the run's streams; a feed of `?wait`s alone waits for the run's end. */
  private notified(runId: string) {
    const feed = this.feeds.get(runId);
    if (feed && [...feed.subs].some((sub) => !sub.endOnly)) this.poke(runId);
  }

  /**
   * LISTENs once on both channels (every event; a run's end); on every reconnect of the listener all feeds re-read,
   * catching up what went unnotified.
   */
  private listen(): Promise<unknown> {
    const catchUp = () => {
      for (const runId of this.feeds.keys()) this.poke(runId);
    };
    this.listening ??= Promise.all([
      this.sql.listen(RUN_EVENTS_CHANNEL, (runId) => this.notified(runId), catchUp),
      this.sql.listen(RUN_FINAL_CHANNEL, (runId) => this.poke(runId), catchUp),
    ]).catch((err) => {
      this.listening = null;
      throw err;
    });
    return this.listening;
  }
}
