/**
 * One batch of a map over a workflow (workflows/nodes/map-children.ts): a child run per listed item, at most
 * `concurrency` at a time, each a run of the map's run. Its history grows by a few events per item: past the
 * run's history bound it lets running items finish and continues as new with the items not started. Cancelling
 * it (the map's run cancelled, or another batch's item failed under "fail") cancels its child runs.
 */
import { continueAsNew, workflowInfo } from "@temporalio/workflow";
import type { MapConfig } from "../core/control-nodes.ts";
import type { MapBatchInput, MapBatchResult } from "../core/contract.ts";
import { runChildItems } from "./nodes/map-children.ts";

const DEFAULT_MAX_HISTORY_EVENTS = 10_000;

export async function mapBatch(input: MapBatchInput): Promise<MapBatchResult> {
  const maxEvents = input.run.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS;
  const draining = () => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength > maxEvents;
  };
  const { failed, notStarted } = await runChildItems(input, input.indices, input.concurrency, draining);
  const total = (input.failedBefore ?? 0) + failed;
  const stops = total > 0 && (input.node.config as MapConfig).on_item_failure !== "continue";
  if (notStarted.length && !stops) {
    await continueAsNew<typeof mapBatch>({ ...input, indices: notStarted, failedBefore: total });
  }
  return { failed: total };
}
