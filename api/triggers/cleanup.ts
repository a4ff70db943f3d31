/** A deleted workflow keeps no triggers: its Temporal Schedules are deleted and its webhook token forgotten. */
import type { Services } from "../env.ts";
import { engineUnavailable } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { deleteHook, deleteSchedule, workflowScheduleIds } from "./store.ts";
import { deleteTemporalSchedule } from "./temporal.ts";

/** Deletes the workflow's schedules (Temporal first, then their rows) and its hook; throws 503 if Temporal fails. */
export async function deleteWorkflowTriggers(
  services: Pick<Services, "sql" | "temporal">,
  logger: Logger,
  workflowId: string,
): Promise<void> {
  const { sql, temporal } = services;
  for (const s of await workflowScheduleIds(sql, workflowId)) {
    try {
      await deleteTemporalSchedule(temporal, s.temporal_schedule_id);
    } catch (err) {
      // The workflow and the remaining rows stay, so the delete can be retried.
      logger.error("temporal schedule delete failed", { schedule_id: s.id, error: String(err) });
      throw engineUnavailable("the workflow was not deleted");
    }
    await deleteSchedule(sql, s.id);
  }
  await deleteHook(sql, workflowId);
}
