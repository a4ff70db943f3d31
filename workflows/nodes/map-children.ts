/**
 * A map over a workflow: a child run per item, `concurrency` at a time. Up to the run's batch size
 * (RunDagInput.mapBatchItems) the map's own workflow starts them; beyond it, it starts one mapBatch workflow
 * (workflows/map-batch.ts) per batch of items, the map's concurrency split across the batches running at once,
 * so each history holds a few events per item of one batch at most, and 10,000 items cost the map some forty
 * child workflows. Every item's child run is still a run of the map's run (parent_run_id, parent_node).
 */
import {
  CancellationScope,
  ChildWorkflowCancellationType,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  proxyLocalActivities,
  uuid4,
} from "@temporalio/workflow";
import type { MapConfig } from "../../core/control-nodes.ts";
import { type MapBatchInput, WORKFLOW_TYPES, type WorkflowActivities, workflowIds } from "../../core/contract.ts";
import { bookkeeping, record } from "../activity-options.ts";
import type { mapBatch } from "../map-batch.ts";
import { startChildRun } from "./child-runs.ts";

/** Maps over a workflow with more items than this (and no patch) failed before batches: they replay that way. */
export const MAX_MAP_CHILD_RUNS = 1000;
/** Child runs one workflow starts for a map, when the run does not say (RunDagInput.mapBatchItems). */
export const DEFAULT_MAP_BATCH_ITEMS = 500;
/** Maps over a workflow start their items through mapBatch workflows past the batch size. */
export const MAP_BATCHES_PATCH = "weft-map-batches";

/** One item's child input: a local activity, one history event per item rather than three. */
const itemInput = proxyLocalActivities<WorkflowActivities>({
  startToCloseTimeout: "1m",
  retry: { maximumAttempts: 10, initialInterval: "500ms", maximumInterval: "10s" },
}).mapItemInput;

export type ChildItems = Pick<MapBatchInput, "run" | "node" | "context">;

/**
 * A child run per listed item, `concurrency` at a time; under "fail" the first failed item cancels the others.
 * `draining`: start no more items once it holds (the caller continues as new with those answered as not started).
 */
export async function runChildItems(
  items: ChildItems,
  indices: number[],
  concurrency: number,
  draining: () => boolean = () => false,
): Promise<{ failed: number; notStarted: number[] }> {
  const { run, node, context } = items;
  const config = node.config as MapConfig;
  const depth = (run.depth ?? 0) + 1;
  const scope = new CancellationScope();
  let next = 0;
  let failed = 0;
  let stopped = false;
  const worker = async () => {
    while (next < indices.length && !stopped && !draining()) {
      const index = indices[next++];
      try {
        await runChild(index);
      } catch (err) {
        // Once an item failed under "fail", the others end cancelled: that is not the run being cancelled.
        if (stopped) return;
        if (isCancellation(err)) throw err;
        failed++;
        if (config.on_item_failure !== "continue") {
          stopped = true;
          scope.cancel();
        }
      }
    }
  };
  const runChild = async (index: number) => {
    const input = await itemInput({ runId: run.runId, node, context, index });
    const created = await record(() =>
      bookkeeping.createChildRun({
        parentRunId: run.runId,
        parentNode: node.name,
        runId: uuid4(),
        workflowId: config.workflow_id!,
        version: config.version ?? "latest",
        input,
        trigger: "map",
        item: { nodeId: node.id, index },
      })
    );
    await (await startChildRun(run, created, { depth })).result();
  };
  await scope.run(() => Promise.all(Array.from({ length: Math.min(concurrency, indices.length) }, worker)));
  return { failed, notStarted: stopped ? [] : indices.slice(next) };
}

/** Splits `concurrency` over `lanes` lanes as evenly as it goes (each at least 1). */
export function laneConcurrency(concurrency: number, lanes: number, lane: number): number {
  return Math.max(1, Math.floor(concurrency / lanes) + (lane < concurrency % lanes ? 1 : 0));
}

/**
 * The items in batches of `batchItems`, each a mapBatch child workflow; at most `concurrency` items run at once
 * over all batches. Under "fail" a batch with a failed item cancels the others (and so their child runs).
 */
export async function runChildBatches(items: ChildItems, pending: number[], batchItems: number): Promise<void> {
  const config = items.node.config as MapConfig;
  const batches: number[][] = [];
  for (let i = 0; i < pending.length; i += batchItems) batches.push(pending.slice(i, i + batchItems));
  const lanes = Math.min(config.concurrency, batches.length);
  const scope = new CancellationScope();
  let next = 0;
  let stopped = false;
  const lane = async (i: number) => {
    const concurrency = laneConcurrency(config.concurrency, lanes, i);
    while (next < batches.length && !stopped) {
      const b = next++;
      const input: MapBatchInput = { ...items, indices: batches[b], concurrency };
      try {
        const result = await executeChild<typeof mapBatch>(WORKFLOW_TYPES.mapBatch, {
          workflowId: workflowIds.mapBatch(items.run.runId, items.node.id, b),
          args: [input],
          cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        });
        if (result.failed > 0 && config.on_item_failure !== "continue") {
          stopped = true;
          scope.cancel();
        }
      } catch (err) {
        if (stopped) return;
        throw err;
      }
    }
  };
  await scope.run(() => Promise.all(Array.from({ length: lanes }, (_, i) => lane(i))));
}
