/**
 * Before rows that Temporal work belongs to are deleted (an account, a workspace): their schedules go first, or
 * nothing is deleted (a schedule left behind would keep firing for something that no longer exists); after the
 * delete, their running workflows are terminated, best effort: with their rows gone the worker acts for no one.
 */
import { temporalWorkflowId } from "../db/runs.ts";
import type { Services } from "./env.ts";
import { engineUnavailable } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { WorkflowNotFoundError } from "./temporal/client.ts";
import { deleteTemporalSchedule } from "./triggers/temporal.ts";

/** Whose work: a workspace's (an account's is its personal workspace's). */
export interface EngineScope {
  workspaceId: string;
}

/** Deletes the scope's Temporal schedules; 503 (and nothing deleted yet in the database) when Temporal fails. */
export async function deleteSchedulesOf(services: Services, logger: Logger, scope: EngineScope, what: string) {
  const { sql, temporal } = services;
  const schedules = await sql`SELECT temporal_schedule_id FROM workflow_schedules
    WHERE workspace_id = ${scope.workspaceId}`;
  try {
    for (const s of schedules) await deleteTemporalSchedule(temporal, s.temporal_schedule_id as string);
  } catch (err) {
    // Nothing in the database is deleted, so the request can simply be repeated.
    logger.error(`${what} delete: temporal schedule delete failed`, {
      workspace_id: scope.workspaceId,
      error: String(err),
    });
    throw engineUnavailable(`the ${what} was not deleted`);
  }
  return schedules.length;
}

/** The Temporal workflow ids of the scope's unfinished runs and ingestions (read before the rows go). */
export async function unfinishedWorkflowsOf(services: Services, scope: EngineScope): Promise<string[]> {
  const { sql } = services;
  const [runs, ingestions] = await Promise.all([
    sql`SELECT id FROM workflow_runs WHERE workspace_id = ${scope.workspaceId} AND status IN ('pending', 'running', 'waiting')`,
    sql`SELECT i.temporal_workflow_id FROM vector_ingestions i JOIN vector_collections c ON c.id = i.collection_id
        WHERE c.workspace_id = ${scope.workspaceId} AND i.status NOT IN ('succeeded', 'failed')
          AND i.temporal_workflow_id IS NOT NULL`,
  ]);
  return [
    ...runs.map((r) => temporalWorkflowId(r.id as string)),
    ...ingestions.map((i) => i.temporal_workflow_id as string),
  ];
}

export async function terminateWorkflows(services: Services, logger: Logger, workflowIds: string[], reason: string) {
  await Promise.all(workflowIds.map(async (id) => {
    try {
      await services.temporal.terminateWorkflow(id, reason);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) {
        logger.warn("could not terminate a workflow", { workflow_id: id, error: String(err) });
      }
    }
  }));
}
