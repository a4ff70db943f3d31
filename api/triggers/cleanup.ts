/** A deleted workflow keeps no triggers: its Temporal Schedules are deleted and its webhook token forgotten. */
import type { Services } from "../env.ts";
import { ApiError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { deleteTemporalSchedule } from "./temporal.ts";

/** Deletes the workflow's schedules (Temporal first, then their rows) and its hook; throws 503 if Temporal fails. */
export async function deleteWorkflowTriggers(services: Services, logger: Logger, workflowId: string): Promise<void> {
  const { sql, temporal } = services;
  const schedules =
    await sql`SELECT id, temporal_schedule_id FROM workflow_schedules WHERE workflow_id = ${workflowId}`;
  for (const s of schedules) {
    try {
      await deleteTemporalSchedule(temporal, s.temporal_schedule_id as string);
    } catch (err) {
      // The workflow and the remaining rows stay, so the delete can be retried.
      logger.error("temporal schedule delete failed", { schedule_id: s.id, error: String(err) });
      throw new ApiError("SERVICE_UNAVAILABLE", "the workflow engine is unavailable; the workflow was not deleted");
    }
    await sql`DELETE FROM workflow_schedules WHERE id = ${s.id}`;
  }
  await sql`DELETE FROM workflow_hooks WHERE workflow_id = ${workflowId}`;
}
