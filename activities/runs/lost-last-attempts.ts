/**
 * A node's last attempt lost with its worker (Temporal timed it out — heartbeat or start-to-close — and retries no
 * more) is recorded by no later attempt, so the run's finishing bookkeeping records it: Temporal's own history
 * says which node activities ended timed out and at which attempt (the ActivityTaskStarted event of a retried
 * activity carries its final attempt number). No workflow change: the history is read by the activity.
 */
import { Context } from "@temporalio/activity";
import type { temporal } from "@temporalio/proto";

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Lone node activities (executeNode, activity id = node name) that timed out, with their final attempt. */
export function timedOutNodeAttempts(events: HistoryEvent[]): { nodeName: string; attempt: number }[] {
  const byId = new Map(events.map((e) => [String(e.eventId), e]));
  const found: { nodeName: string; attempt: number }[] = [];
  for (const e of events) {
    const timedOut = e.activityTaskTimedOutEventAttributes;
    if (!timedOut) continue;
    const scheduled = byId.get(String(timedOut.scheduledEventId))?.activityTaskScheduledEventAttributes;
    const started = byId.get(String(timedOut.startedEventId))?.activityTaskStartedEventAttributes;
    // Groups (executeNodeGroup) number their members' attempts themselves; their rows say what ran.
    if (scheduled?.activityType?.name !== "executeNode" || !scheduled.activityId) continue;
    found.push({ nodeName: scheduled.activityId, attempt: started?.attempt ?? 1 });
  }
  return found;
}

/** The current workflow execution's timed-out node attempts, read from Temporal by the executing activity. */
export async function currentRunTimedOutAttempts(): Promise<{ nodeName: string; attempt: number }[]> {
  const ctx = Context.current();
  const execution = ctx.info.workflowExecution;
  if (!execution) return [];
  const { workflowId, runId } = execution;
  const history = await ctx.client.workflow.getHandle(workflowId, runId).fetchHistory();
  return timedOutNodeAttempts(history.events ?? []);
}
