/** How schedules live in Temporal: one Temporal Schedule per Weft schedule, each firing starts scheduledRun. */
import { type ScheduledRunInput, WORKFLOW_TYPES, workflowArgs, workflowIds } from "../../core/contract.ts";
import type { ApiConfig } from "../config.ts";
import { InvalidArgumentError, ScheduleNotFoundError, type TemporalApi } from "../temporal/client.ts";

export const SCHEDULED_RUN_WORKFLOW_TYPE = WORKFLOW_TYPES.scheduledRun;

export const temporalScheduleId = workflowIds.schedule;

/** Temporal refused the schedule's spec (a bad cron expression, an unknown time zone). */
export class InvalidScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidScheduleError";
  }
}

export function scheduleUiUrl(config: Pick<ApiConfig, "TEMPORAL_UI_URL" | "TEMPORAL_NAMESPACE">, id: string) {
  return `${config.TEMPORAL_UI_URL.replace(/\/$/, "")}/namespaces/${
    encodeURIComponent(config.TEMPORAL_NAMESPACE)
  }/schedules/${encodeURIComponent(id)}`;
}

export interface ScheduleSpec {
  cron: string;
  timezone: string;
  paused: boolean;
}

export async function createTemporalSchedule(
  temporal: TemporalApi,
  taskQueue: string,
  id: string,
  spec: ScheduleSpec,
  args: ScheduledRunInput,
): Promise<void> {
  try {
    await temporal.createSchedule(id, {
      cron: spec.cron,
      timezone: spec.timezone,
      paused: spec.paused,
      note: `Weft workflow ${args.workflowId}`,
      memo: { weft_workflow_id: args.workflowId, weft_schedule_id: args.scheduleId },
      // Temporal appends each firing's time to the workflow id.
      action: {
        workflowType: SCHEDULED_RUN_WORKFLOW_TYPE,
        workflowId: id,
        taskQueue,
        args: workflowArgs("scheduledRun", args),
      },
      // Every firing is its own run, even while an earlier one is still going (the overlap policy is
      // ALLOW_ALL); after a Temporal outage only firings missed in the last minute are caught up, not a burst of
      // everything missed.
      catchupWindow: "60s",
    });
  } catch (err) {
    // Temporal answers INVALID_ARGUMENT for a spec it cannot use.
    if (err instanceof InvalidArgumentError) throw new InvalidScheduleError(err.message);
    throw err;
  }
}

/** Deletes the Temporal Schedule; one already gone counts as deleted. */
export async function deleteTemporalSchedule(temporal: TemporalApi, id: string): Promise<void> {
  try {
    await temporal.deleteSchedule(id);
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
}
