/** Run events (db/migrations/005_run_events.sql): appended by triggers and by workers, streamed by the API. */
import { jsonValue, type Sql } from "./client.ts";

/** Carries the run id of every appended event, at commit. */
export const RUN_EVENTS_CHANNEL = "weft_run_events";
/** Carries the run id of a run's final status event only (db/migrations/042_run_final_notify.sql). */
export const RUN_FINAL_CHANNEL = "weft_run_final";

export interface RunEvent {
  /** run_events.id as a string: it is a bigint, and the SSE event id. */
  id: string;
  type: string;
  data: unknown;
}

/** Event names: they become SSE `event:` lines (the table enforces the same). */
const EVENT_TYPE = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * Appends an event of any type to a run (`token` with {node_name, seq, text} for streamed LLM output, say) and
 * notifies listeners at commit; returns its id. Goes through weft_append_run_event so ids stay in commit order.
 */
export async function appendRunEvent(sql: Sql, runId: string, type: string, data: unknown): Promise<string> {
  if (!EVENT_TYPE.test(type)) throw new Error(`invalid run event type "${type}"`);
  const [row] = await sql`SELECT weft_append_run_event(${runId}, ${type}, ${
    sql.json(jsonValue(data ?? {}))
  })::text AS id`;
  return row.id as string;
}

/** The run's events after `afterId`, oldest first. */
export async function readRunEvents(sql: Sql, runId: string, afterId: string, limit: number): Promise<RunEvent[]> {
  // Qualified: a bare `id` in ORDER BY would name the text column and sort "10" before "9".
  const rows = await sql`SELECT e.id::text AS id, e.type, e.data FROM run_events e
    WHERE e.run_id = ${runId} AND e.id > ${afterId}::bigint ORDER BY e.id LIMIT ${limit}`;
  return rows as unknown as RunEvent[];
}
