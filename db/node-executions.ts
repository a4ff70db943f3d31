/**
 * The node_executions rows a worker writes for each attempt. A short attempt writes one row when it ends
 * (`recorded`: its final status, started_at and duration); an attempt still running after a moment writes its
 * `running` row then (`started`, returns the row's id) and updates it when it ends (`finished`). `live` answers
 * whether a run still takes attempts, for an attempt that checks before it acts. All go through group commit, so
 * the attempts running at once in one worker share statements. Each write first takes the runs' event locks
 * (weft_append_run_event's advisory lock) in one order, so two batches touching the same runs can't deadlock on
 * the per-row triggers that take them.
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
  /** How long ago the attempt began (started_at is back-dated by it); 0 when omitted. */
  elapsed_ms?: number;
  /** How the attempt runs (core/node-execution.ts). */
  execution?: "local" | "activity";
  /**
   * A local node's first try in this workflow task: a row an earlier try left for the same attempt is kept as it
   * is and nothing is written (the caller reads it and goes on from it: activities/local-node.ts).
   */
  fresh?: boolean;
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

/** A whole attempt in one row, written when it ends. */
export type AttemptRecord = AttemptStart & Omit<AttemptEnd, "id">;

/** A finished run takes no new attempts: whoever replays its workflow writes nothing. */
const LIVE_RUN =
  `EXISTS (SELECT 1 FROM workflow_runs r WHERE r.id = a.run_id AND r.status IN ('pending', 'running', 'waiting'))`;

const key = (r: { run_id: string; node_id: string; attempt: number }) => `${r.run_id}/${r.node_id}/${r.attempt}`;

/**
 * Writes fresh attempts (a conflicting row is kept: ON CONFLICT DO NOTHING) apart from the others (a conflicting
 * row is taken over), one statement for each kind present, and answers in the items' order.
 */
async function byConflict<T extends { fresh?: boolean }, R>(
  items: T[],
  write: (items: T[], takeOver: boolean) => Promise<R[]>,
): Promise<R[]> {
  const fresh = items.filter((i) => i.fresh);
  if (!fresh.length || fresh.length === items.length) return await write(items, !fresh.length);
  const others = items.filter((i) => !i.fresh);
  const [a, b] = await Promise.all([write(fresh, false), write(others, true)]);
  let [i, j] = [0, 0];
  return items.map((item) => item.fresh ? a[i++] : b[j++]);
}

export function createNodeExecutionLog(sql: Sql) {
  const lockRuns = (runIds: string[]) =>
    sql`SELECT pg_advisory_xact_lock(7723005, k) FROM (
          SELECT DISTINCT hashtext(r::text) AS k FROM unnest(${runIds}::uuid[]) AS r ORDER BY k) AS keys`;

  /** The attempt's row id; undefined when the run is no longer live (nothing was written). */
  const started = groupCommit<AttemptStart, number | undefined>((all) =>
    byConflict(all, async (items, takeOver) => {
      const rows = await sql`
      WITH locks AS MATERIALIZED (${lockRuns(items.map((i) => i.run_id))})
      INSERT INTO node_executions (run_id, node_id, node_name, type, status, attempt, input, execution, started_at)
      SELECT a.run_id, a.node_id, a.node_name, a.type, 'running', a.attempt, a.input, a.execution,
             now() - coalesce(a.elapsed_ms, 0) * interval '1 millisecond'
        FROM ROWS FROM (jsonb_to_recordset(${sql.json(items as never)})
               AS (run_id uuid, node_id uuid, node_name text, type text, attempt int, input jsonb, execution text,
                   elapsed_ms int))
             WITH ORDINALITY AS a(run_id, node_id, node_name, type, attempt, input, execution, elapsed_ms, ord)
       WHERE (SELECT count(*) FROM locks) >= 0 AND ${sql.unsafe(LIVE_RUN)}
       ORDER BY a.ord
      ON CONFLICT (run_id, node_id, attempt) ${
        takeOver
          ? sql`DO UPDATE
        SET status = 'running', started_at = excluded.started_at, input = excluded.input, execution = excluded.execution`
          : sql`DO NOTHING`
      }
      RETURNING id, run_id, node_id, attempt`;
      const ids = new Map(rows.map((r) => [key(r as never), Number(r.id)]));
      return items.map((i) => ids.get(key(i)));
    })
  );

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

  /** Whether the attempt was written; false when the run is no longer live (nothing was written). */
  const recorded = groupCommit<AttemptRecord, boolean>((all) =>
    byConflict(all, async (items, takeOver) => {
      const rows = items.map((i) => ({ ...i, has_output: i.output !== undefined, output: i.output ?? null }));
      const written = await sql`
      WITH locks AS MATERIALIZED (${lockRuns(items.map((i) => i.run_id))})
      INSERT INTO node_executions AS n
        (run_id, node_id, node_name, type, status, attempt, input, execution, output, error, started_at, finished_at,
         duration_ms)
      SELECT a.run_id, a.node_id, a.node_name, a.type, a.status, a.attempt, a.input, a.execution,
             CASE WHEN a.has_output THEN coalesce(a.output, 'null'::jsonb) END, a.error,
             now() - a.duration_ms * interval '1 millisecond', now(), a.duration_ms
        FROM ROWS FROM (jsonb_to_recordset(${sql.json(rows as never)})
               AS (run_id uuid, node_id uuid, node_name text, type text, attempt int, input jsonb, execution text,
                   status text, output jsonb, has_output boolean, error jsonb, duration_ms int))
             WITH ORDINALITY AS a(run_id, node_id, node_name, type, attempt, input, execution, status, output,
                                  has_output, error, duration_ms, ord)
       WHERE (SELECT count(*) FROM locks) >= 0 AND ${sql.unsafe(LIVE_RUN)}
       ORDER BY a.ord
      -- A row an earlier try of the same attempt left (its worker died while it ran) is taken over.
      ON CONFLICT (run_id, node_id, attempt) ${
        takeOver
          ? sql`DO UPDATE
        SET status = excluded.status, input = excluded.input, execution = excluded.execution,
            output = excluded.output, error = excluded.error,
            started_at = excluded.started_at, finished_at = excluded.finished_at, duration_ms = excluded.duration_ms`
          : sql`DO NOTHING`
      }
      RETURNING run_id, node_id, attempt`;
      const keys = new Set(written.map((r) => key(r as never)));
      return items.map((i) => keys.has(key(i)));
    })
  );

  const live = groupCommit<string, boolean>(async (runIds) => {
    const rows = await sql`SELECT id FROM workflow_runs
      WHERE id = ANY(${[...new Set(runIds)]}::uuid[]) AND status IN ('pending', 'running', 'waiting')`;
    const ids = new Set(rows.map((r) => (r.id as string).toLowerCase()));
    return runIds.map((id) => ids.has(id.toLowerCase()));
  });

  return {
    live: (runId: string) => dbSpan("node_executions.live", () => live(runId)),
    recorded: (a: AttemptRecord) => dbSpan("node_executions.recorded", () => recorded(a)),
    started: (a: AttemptStart) => dbSpan("node_executions.started", () => started(a)),
    finished: (a: AttemptEnd) => dbSpan("node_executions.finished", () => finished(a)),
  };
}
