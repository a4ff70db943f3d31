/**
 * A map's per-item progress on its run's event stream: `map_items` events {node_name, items: [{index, status,
 * error?}]}, each holding every item that ended since the last one, at most one every STREAM_INTERVAL_MS (the
 * token events' bound), so 10,000 quick items cost the event log a few hundred rows, not ten thousand.
 */
import type { Sql } from "../../db/client.ts";
import { appendRunEvent } from "../../db/run-events.ts";
import { STREAM_INTERVAL_MS } from "../llm/token-events.ts";

export interface ItemEvent {
  index: number;
  status: "succeeded" | "failed" | "cancelled";
  error?: string;
}

export function mapItemEvents(sql: Sql, runId: string, nodeName: string) {
  let pending: ItemEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  let writing: Promise<void> = Promise.resolve();
  const flush = () => {
    timer = null;
    if (!pending.length) return;
    const items = pending;
    pending = [];
    // Progress is best effort: a failed write loses an event, never the map.
    writing = writing.then(() => appendRunEvent(sql, runId, "map_items", { node_name: nodeName, items })).then(
      () => {},
      () => {},
    );
  };
  return {
    push(event: ItemEvent) {
      pending.push(event);
      timer ??= setTimeout(flush, STREAM_INTERVAL_MS);
    },
    async close() {
      if (timer) clearTimeout(timer);
      flush();
      await writing;
    },
  };
}
