/** GET …/runs/{run_id}/events: a run's progress as Server-Sent Events, read from PostgreSQL, resumable by id. */
import { streamSSE } from "hono/streaming";
import { readRunEvents, type RunEvent } from "../../db/run-events.ts";
import { ApiError } from "../errors.ts";
import type { AppRouteHandler } from "../openapi.ts";
import type { Subscription } from "./event-hub.ts";
import type { runEventsRoute } from "./routes.ts";
import { FINAL_RUN_STATUSES, getOwnedRun } from "./store.ts";

const FINAL = FINAL_RUN_STATUSES;
const REPLAY_BATCH = 500;

const isFinalRunEvent = (e: RunEvent) =>
  e.type === "run" && FINAL.has((e.data as { status?: string } | null)?.status ?? "");

const toSSE = (e: RunEvent) => ({ event: e.type, id: e.id, data: JSON.stringify(e.data) });

export const streamRunEvents: AppRouteHandler<typeof runEventsRoute> = async (c) => {
  const { sql, logger, events: hub } = c.get("services");
  const { id, run_id } = c.req.valid("param");
  // The header is what a reconnecting EventSource sends, newer than the id in the URL it reconnects to.
  const after = c.req.valid("header")["last-event-id"] ?? c.req.valid("query").last_event_id ?? "0";
  const run = await getOwnedRun(sql, id, run_id, c.get("workspace").id);

  if (FINAL.has(run.status)) {
    // Every event of a final run is already committed: replay it and end, no subscription needed.
    let events = await readRunEvents(sql, run_id, after, REPLAY_BATCH);
    // A 204 tells an EventSource not to reconnect, which it otherwise would forever.
    if (!events.length) return c.body(null, 204);
    return streamSSE(c, async (stream) => {
      try {
        while (events.length && !stream.aborted) {
          for (const e of events) await stream.writeSSE(toSSE(e));
          if (events.length < REPLAY_BATCH) break;
          events = await readRunEvents(sql, run_id, events[events.length - 1].id, REPLAY_BATCH);
        }
      } catch (err) {
        // The client reconnects with the last id it got; the reason is for the log only.
        logger.warn("run event replay failed", { run_id, error: (err as Error).message });
      }
    });
  }

  let sub: Subscription;
  try {
    sub = await hub.subscribe(run_id, BigInt(after));
  } catch (err) {
    logger.error("cannot listen for run events", { error: (err as Error).message });
    throw new ApiError("SERVICE_UNAVAILABLE", "live run events are unavailable right now");
  }
  c.header("X-Accel-Buffering", "no"); // nginx would otherwise hold events back in its buffer
  return streamSSE(c, async (stream) => {
    stream.onAbort(() => sub.close());
    // Where the runtime reports a gone client on the request rather than by cancelling the body.
    c.req.raw.signal.addEventListener("abort", () => sub.close());
    try {
      let lastWrite = Date.now();
      while (!stream.aborted) {
        const events = await sub.next(Math.max(0, lastWrite + hub.heartbeatMs - Date.now()));
        if (stream.aborted) break;
        if (!events.length) {
          if (sub.closed) break;
          // Woken early without news (a slow client's drain): wait out the rest of the interval.
          if (Date.now() - lastWrite < hub.heartbeatMs) continue;
          await stream.write(": keep-alive\n\n");
          lastWrite = Date.now();
          hub.poke(run_id);
          continue;
        }
        for (const e of events) await stream.writeSSE(toSSE(e));
        lastWrite = Date.now();
        if (events.some(isFinalRunEvent)) break;
      }
    } catch (err) {
      logger.warn("run event stream failed", { run_id, error: (err as Error).message });
    } finally {
      sub.close();
    }
  });
};
