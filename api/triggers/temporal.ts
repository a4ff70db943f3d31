/** How schedules live in Temporal: one Temporal Schedule per Weft schedule, each firing starts scheduledRun. */
import { type Client, ScheduleNotFoundError, ScheduleOverlapPolicy } from "@temporalio/client";
import type { ScheduledRunInput } from "../../activities/runs/scheduling.ts";
import type { ApiConfig } from "../config.ts";

export const SCHEDULED_RUN_WORKFLOW_TYPE = "scheduledRun";

export const temporalScheduleId = (scheduleId: string) => `weft-schedule-${scheduleId}`;

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
  client: Client,
  taskQueue: string,
  id: string,
  spec: ScheduleSpec,
  args: ScheduledRunInput,
): Promise<void> {
  try {
    await client.schedule.create({
      scheduleId: id,
      spec: { cronExpressions: [spec.cron], timezone: spec.timezone },
      action: {
        type: "startWorkflow",
        workflowType: SCHEDULED_RUN_WORKFLOW_TYPE,
        taskQueue,
        // Temporal appends each firing's time to this id.
        workflowId: id,
        args: [args],
      },
      // Every firing is its own run, even while an earlier one is still going; after a Temporal outage
      // only firings missed in the last minute are caught up, not a burst of everything missed.
      policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL, catchupWindow: "1 minute" },
      state: { paused: spec.paused, note: `Weft workflow ${args.workflowId}` },
      memo: { weft_workflow_id: args.workflowId, weft_schedule_id: args.scheduleId },
    });
  } catch (err) {
    // The client turns the server's "Invalid schedule spec" (INVALID_ARGUMENT) into a TypeError.
    if (err instanceof TypeError) throw new InvalidScheduleError(err.message);
    throw err;
  }
}

/** Deletes the Temporal Schedule; one already gone counts as deleted. */
export async function deleteTemporalSchedule(client: Client, id: string): Promise<void> {
  try {
    await client.schedule.getHandle(id).delete();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
}
