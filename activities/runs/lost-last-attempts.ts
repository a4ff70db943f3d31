/**
 * A node's last attempt lost with its worker (Temporal timed it out — heartbeat or start-to-close — and retries no
 * more) is recorded by no later attempt, so the run's finishing bookkeeping records it: Temporal's own history
 * says which node activities ended timed out and at which attempt (the ActivityTaskStarted event of a retried
 * activity carries its final attempt number). A node group (executeNodeGroup) numbers its members' attempts
 * itself: for a group whose last attempt was lost the history gives its members (the activity's input), and the
 * rows say how far each had come. No workflow change: the history is read by the activity.
 */
import { Context } from "@temporalio/activity";
import { decodeFromPayloadsAtIndex } from "@temporalio/common/lib/internal-non-workflow";
import type { temporal } from "@temporalio/proto";
import type { ExecuteNodeGroupInput } from "../../core/contract.ts";

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payloads = temporal.api.common.v1.IPayload[];

/** What timed out: lone node activities (activity id = node name) with their final attempt, and groups' inputs. */
export interface TimedOutActivities {
  nodes: { nodeName: string; attempt: number }[];
  /** The encoded input of each executeNodeGroup activity whose last attempt timed out. */
  groupInputs: Payloads[];
}

export function timedOutActivities(events: HistoryEvent[]): TimedOutActivities {
  const byId = new Map(events.map((e) => [String(e.eventId), e]));
  const found: TimedOutActivities = { nodes: [], groupInputs: [] };
  for (const e of events) {
    const timedOut = e.activityTaskTimedOutEventAttributes;
    if (!timedOut) continue;
    const scheduled = byId.get(String(timedOut.scheduledEventId))?.activityTaskScheduledEventAttributes;
    const started = byId.get(String(timedOut.startedEventId))?.activityTaskStartedEventAttributes;
    const type = scheduled?.activityType?.name;
    if (type === "executeNodeGroup" && scheduled?.input?.payloads) found.groupInputs.push(scheduled.input.payloads);
    if (type !== "executeNode" || !scheduled?.activityId) continue;
    found.nodes.push({ nodeName: scheduled.activityId, attempt: started?.attempt ?? 1 });
  }
  return found;
}

/** Lone node activities (executeNode, activity id = node name) that timed out, with their final attempt. */
export const timedOutNodeAttempts = (events: HistoryEvent[]) => timedOutActivities(events).nodes;

/**
 * The current workflow execution's timed-out node attempts, and the node ids of each timed-out group's members,
 * read from Temporal by the executing activity (a group's input decoded with the worker's data converter).
 */
export async function currentRunTimedOutAttempts(): Promise<{
  nodes: { nodeName: string; attempt: number }[];
  groups: string[][];
}> {
  const ctx = Context.current();
  const execution = ctx.info.workflowExecution;
  if (!execution) return { nodes: [], groups: [] };
  const { workflowId, runId } = execution;
  const history = await ctx.client.workflow.getHandle(workflowId, runId).fetchHistory();
  const found = timedOutActivities(history.events ?? []);
  const converter = ctx.client.options.loadedDataConverter;
  const groups = await Promise.all(found.groupInputs.map(async (payloads) => {
    const input = await decodeFromPayloadsAtIndex<ExecuteNodeGroupInput>(converter, 0, payloads);
    return input.members.map((m) => m.node.id);
  }));
  return { nodes: found.nodes, groups };
}
