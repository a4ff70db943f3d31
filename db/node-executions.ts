/**
 * The node_executions rows a worker writes for each attempt: `started` when an attempt begins (returns the row's
 * id), `finished` when it ends. Both go through group commit, so the attempts running at once in one worker
 * share statements. Each statement first takes the runs' event locks (weft_append_run_event's advisory lock) in
 * one order, so two batches touching the same runs can't deadlock on the per-row triggers that take them.
 */
import { groupCommit } from "../core/group-commit.ts";
import { dbSpan } from "../core/tracing.ts";
import type { Sql } from "./client.ts";

export interface AttemptStart {
  run_id: string;
  node_id: string;
  node_name: string;
  type: string;
  attempt: number;
  /** The rendered config, or null when rendering failed. */
  input: unknown;
  /** How the attempt runs (core/node-execution.ts). */
  execution?: "local" | "activity";
}

export interface AttemptEnd {
  id: number;
  run_id: string;
  status: "succeeded" | "failed" | "cancelled";
  /** undefined leaves the column NULL; null is stored as JSON null. */
  output: unknown;
  error: unknown;
  duration_ms: number;
}

const key = (r: { run_id: string; node_id: string; attempt: number }) => `${r.run_id}/${r.node_id}/${r.attempt}`;

export function createNodeExecutionLog(sql: Sql) {
  const lockRuns = (runIds: string[]) =>
    sql`SELECT pg_advisory_xact_lock(7723005, k) FROM (
          SELECT DISTINCT hashtext(r::text) AS k FROM unnest(${runIds}::uuid[]) AS r ORDER BY k) AS keys`;

  /** The attempt's row id; undefined when the run is no longer live (nothing was written). */
  const started = groupCommit<AttemptStart, number | undefined>(async (items) => {
    const rows = await sql`
      WITH locks AS MATERIALIZED (${lockRuns(items.map((i) => i.run_id))})
      INSERT INTO node_executions (run_id, node_id, node_name, type, status, attempt, input, execution)
      SELECT a.run_id, a.node_id, a.node_name, a.type, 'running', a.attempt, a.input, a.execution
        FROM ROWS FROM (jsonb_to_recordset(${sql.json(items as never)})
               AS (run_id uuid, node_id uuid, node_name text, type text, attempt int, input jsonb, execution text))
             WITH ORDINALITY AS a(run_id, node_id, node_name, type, attempt, input, execution, ord)
       WHERE (SELECT count(*) FROM locks) >= 0
         -- A run that has finished takes no new attempts: whoever replays its workflow writes nothing.
         AND EXISTS (SELECT 1 FROM workflow_runs r WHERE r.id = a.run_id AND r.status IN ('pending', 'running', 'waiting'))
       ORDER BY a.ord
      ON CONFLICT (run_id, node_id, attempt) DO UPDATE SET status = 'running', started_at = now(), input = excluded.input,
        execution = excluded.execution
      RETURNING id, run_id, node_id, attempt`;
    const ids = new Map(rows.map((r) => [key(r as never), Number(r.id)]));
    return items.map((i) => ids.get(key(i)));
  });

  const finished = groupCommit<AttemptEnd, void>(async (items) => {
    const rows = items.map((i) => ({ ...i, has_output: i.output !== undefined, output: i.output ?? null }));
    await sql`
      WITH locks AS MATERIALIZED (${lockRuns(items.map((i) => i.run_id))})
      UPDATE node_executions AS n
         SET status = e.status, finished_at = now(), duration_ms = e.duration_ms, error = e.error,
             output = CASE WHEN e.has_output THEN coalesce(e.output, 'null'::jsonb) END
        FROM jsonb_to_recordset(${sql.json(rows as never)})
             AS e(id bigint, status text, output jsonb, has_output boolean, error jsonb, duration_ms int)
       WHERE n.id = e.id AND (SELECT count(*) FROM locks) >= 0`;
    return items.map(() => undefined);
  });

  return {
    started: (a: AttemptStart) => dbSpan("node_executions.started", () => started(a)),
    finished: (a: AttemptEnd) => dbSpan("node_executions.finished", () => finished(a)),
  };
}
