/**
 * Creates the Temporal schedule that prunes expired runs (workflows/prune-runs.ts) when it does not exist yet.
 * Every API replica tries at start; the schedule id makes that idempotent. How long runs are kept is the
 * worker's WEFT_RUN_RETENTION_DAYS, read where the deletes happen.
 */
import { WORKFLOW_TYPES, workflowArgs, workflowIds } from "../core/contract.ts";
import type { ApiConfig } from "./config.ts";
import type { Logger } from "./logger.ts";
import type { TemporalApi } from "./temporal/client.ts";

export const RETENTION_SCHEDULE_ID = workflowIds.retentionSchedule;

export async function ensureRetentionSchedule(
  temporal: Pick<TemporalApi, "createSchedule">,
  config: Pick<ApiConfig, "WEFT_TASK_QUEUE">,
  logger?: Logger,
  scheduleId: string = RETENTION_SCHEDULE_ID,
) {
  try {
    await temporal.createSchedule(scheduleId, {
      cron: "17 * * * *",
      timezone: "UTC",
      paused: false,
      note: "Weft: deletes finished runs older than WEFT_RUN_RETENTION_DAYS (workflows/prune-runs.ts)",
      memo: {},
      action: {
        workflowType: WORKFLOW_TYPES.pruneRuns,
        workflowId: scheduleId,
        taskQueue: config.WEFT_TASK_QUEUE,
        args: workflowArgs("pruneRuns", { batchSize: 500 }),
      },
      catchupWindow: "3600s",
    });
    logger?.info("retention schedule created", { schedule_id: scheduleId });
  } catch (err) {
    // Already there (another replica, an earlier start) is the normal case.
    if (/already|exists/i.test(String((err as Error).message))) return;
    logger?.warn("could not create the retention schedule", { error: String(err) });
  }
}
