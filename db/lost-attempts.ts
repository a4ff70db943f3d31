/**
 * Every attempt Temporal started has a node_executions row. An attempt whose worker died before its row was
 * written (or while it ran) is recorded as failed with error type `AttemptLost` when the next attempt begins:
 * rows still `running` are closed, and missing attempt numbers below the current one are filled in.
 */
import type { Sql } from "./client.ts";

export const ATTEMPT_LOST = {
  message: "attempt abandoned: the worker stopped or the attempt timed out",
  type: "AttemptLost",
  retryable: true,
};

export async function recordLostAttempts(
  sql: Sql,
  runId: string,
  node: { id: string; name: string; type: string },
  attempt: number,
  /** How the node's attempts run (core/node-execution.ts): the rows filled in say so too. */
  execution: "local" | "activity" = "activity",
): Promise<void> {
  await sql`
    WITH closed AS (
      UPDATE node_executions SET status = 'failed', finished_at = now(), error = ${sql.json(ATTEMPT_LOST)}
      WHERE run_id = ${runId} AND node_id = ${node.id} AND status = 'running' AND attempt < ${attempt}
      RETURNING attempt
    )
    INSERT INTO node_executions
      (run_id, node_id, node_name, type, status, attempt, error, finished_at, duration_ms, execution)
    SELECT ${runId}, ${node.id}, ${node.name}, ${node.type}, 'failed', a, ${
    sql.json({ ...ATTEMPT_LOST, message: "attempt lost: its worker stopped before recording it" })
  }, now(), 0, ${execution}
    FROM generate_series(1, ${attempt - 1}) AS a
    WHERE NOT EXISTS (SELECT 1 FROM node_executions WHERE run_id = ${runId} AND node_id = ${node.id} AND attempt = a)
    ON CONFLICT (run_id, node_id, attempt) DO NOTHING`;
}
