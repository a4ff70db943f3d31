/** Run status bookkeeping in PostgreSQL, called by the workflow as local activities. */
import type { Sql } from "../../db/client.ts";

export interface FinishRun {
  runId: string;
  status: "succeeded" | "failed" | "cancelled";
  output: Record<string, unknown>;
  error?: { message: string; node?: string } | null;
}

export function createRunBookkeeping(sql: Sql) {
  return {
    async markRunStarted(runId: string): Promise<void> {
      await sql`UPDATE workflow_runs SET status = 'running', started_at = coalesce(started_at, now())
                WHERE id = ${runId} AND status = 'pending'`;
    },
    async markRunFinished(finish: FinishRun): Promise<void> {
      await sql`UPDATE workflow_runs SET status = ${finish.status}, output = ${sql.json(finish.output as never)},
                  error = ${finish.error ? sql.json(finish.error as never) : null}, finished_at = now()
                WHERE id = ${finish.runId}`;
    },
  };
}
