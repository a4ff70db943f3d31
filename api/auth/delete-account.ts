/**
 * Deleting an account: what it owns in Temporal goes first (a schedule left behind would keep firing for a
 * user who no longer exists), then the user row, whose foreign keys cascade to workflows, runs, node
 * executions, events, secrets, hooks, schedules, idempotency keys and vector collections. Running workflows
 * are terminated last, best effort: with their rows gone the worker has nothing left to act for.
 */
import { temporalWorkflowId } from "../../db/runs.ts";
import type { Services } from "../env.ts";
import { ApiError, engineUnavailable } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { WorkflowNotFoundError } from "../temporal/client.ts";
import { deleteTemporalSchedule } from "../triggers/temporal.ts";

export async function deleteAccount(services: Services, logger: Logger, userId: string): Promise<void> {
  const { sql, temporal } = services;
  const schedules = await sql`SELECT temporal_schedule_id FROM workflow_schedules WHERE owner_id = ${userId}`;
  try {
    for (const s of schedules) await deleteTemporalSchedule(temporal, s.temporal_schedule_id as string);
  } catch (err) {
    // Nothing in the database is deleted, so the request can simply be repeated.
    logger.error("account delete: temporal schedule delete failed", { user_id: userId, error: String(err) });
    throw engineUnavailable("the account was not deleted");
  }
  const [runs, ingestions] = await Promise.all([
    sql`SELECT id FROM workflow_runs WHERE owner_id = ${userId} AND status IN ('pending', 'running', 'waiting')`,
    sql`SELECT i.temporal_workflow_id FROM vector_ingestions i JOIN vector_collections c ON c.id = i.collection_id
        WHERE c.owner_id = ${userId} AND i.status NOT IN ('succeeded', 'failed') AND i.temporal_workflow_id IS NOT NULL`,
  ]);
  const owned = await sql`DELETE FROM users WHERE id = ${userId} RETURNING id`;
  if (!owned.length) throw new ApiError("UNAUTHORIZED", "the account for this token no longer exists");
  const workflowIds = [
    ...runs.map((r) => temporalWorkflowId(r.id as string)),
    ...ingestions.map((i) => i.temporal_workflow_id as string),
  ];
  await Promise.all(workflowIds.map(async (id) => {
    try {
      await temporal.terminateWorkflow(id, "the account that owned this workflow was deleted");
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) {
        logger.warn("account delete: could not terminate a workflow", { workflow_id: id, error: String(err) });
      }
    }
  }));
  logger.info("account deleted", { user_id: userId, schedules: schedules.length, workflows: workflowIds.length });
}
