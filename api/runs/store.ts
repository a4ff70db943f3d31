/** Reading runs: the columns the API returns, the final statuses, and a run looked up as its owner's. */
import type { Sql } from "../../db/client.ts";
import { notFound } from "../errors.ts";
import type { Row } from "../workflows/store.ts";

export const RUN_COLUMNS =
  "id, workflow_id, status, trigger, retry_of, input, output, error, workflow_version, version_hash, created_at, started_at, finished_at, temporal_workflow_id, temporal_run_id";

/** A run in one of these statuses has ended for good. */
export { FINAL_RUN_STATUSES } from "../../core/contract.ts";

/** The run, if it is the user's and belongs to that workflow; another user's run is a 404 like a missing one. */
export async function getOwnedRun(sql: Sql, workflowId: string, runId: string, ownerId: string): Promise<Row> {
  // Runs stay readable after their workflow is soft-deleted; ownership is the run's own.
  const [found] = await sql`SELECT ${sql.unsafe(RUN_COLUMNS)} FROM workflow_runs
    WHERE id = ${runId} AND workflow_id = ${workflowId} AND owner_id = ${ownerId}`;
  if (!found) throw notFound("run");
  return found;
}
