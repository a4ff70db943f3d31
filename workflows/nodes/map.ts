/**
 * The `map` node: one node, or one child run, per item of an array. Items are evaluated and stored as rows by
 * the worker (map_items), never carried through the workflow: a node per item runs in activities of up to
 * MAP_CHUNK_ITEMS items each, with the map's concurrency and the item node's own retries, so 10,000 items cost
 * the history some twenty activities; a child run per item starts from here, at most `concurrency` at a time.
 * The node's one execution records the counts and, at the end, `{items, failed}`.
 */
import { ActivityCancellationType, isCancellation, patched, proxyActivities } from "@temporalio/workflow";
import type { MapConfig } from "../../core/control-nodes.ts";
import type { MapBatchInput, MapCounts, RunDagInput, SnapshotNode, WorkflowActivities } from "../../core/contract.ts";
import { DEFAULT_MAX_SUB_WORKFLOW_DEPTH, isNodeType, MAP_WAIT_ITEM_TYPES, nodeKinds } from "../../core/node-kinds.ts";
import { nodePolicy, worstCaseMs } from "../../core/node-policy.ts";
import { bookkeeping, record } from "../activity-options.ts";
import type { NodeContext } from "../run-state.ts";
import {
  DEFAULT_MAP_BATCH_ITEMS,
  MAP_BATCHES_PATCH,
  MAX_MAP_CHILD_RUNS,
  runChildBatches,
  runChildItems,
} from "./map-children.ts";
import { type ControlDeps, nodeError, nodeFailure } from "./control.ts";
import { runWaitItems } from "./map-waits.ts";
import type { EventQueue } from "./wait-for-event.ts";

/** Items per activity: small enough that a lost worker repeats little, large enough that the history stays short. */
export const MAP_CHUNK_ITEMS = 500;
const DAY_MS = 86_400_000;

const mapActivities = proxyActivities<WorkflowActivities>({
  startToCloseTimeout: "10m",
  heartbeatTimeout: "30s",
  retry: { maximumAttempts: 10, initialInterval: "1s", maximumInterval: "30s" },
});

/** The activity that runs a chunk of items: on the GPU queue for GPU node types, bounded by its slowest items. */
function itemsActivity(item: { type: string; config: Record<string, unknown> }, concurrency: number, gpu?: string) {
  const onGpu = gpu && isNodeType(item.type) && nodeKinds[item.type].queue === "gpu";
  const rounds = Math.ceil(MAP_CHUNK_ITEMS / concurrency);
  return proxyActivities<WorkflowActivities>({
    ...(onGpu ? { taskQueue: gpu } : {}),
    startToCloseTimeout: Math.min(DAY_MS, worstCaseMs(nodePolicy(item.config)) * rounds),
    heartbeatTimeout: "30s",
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    // A retried chunk goes on from the items its rows record as finished.
    retry: { maximumAttempts: 10, initialInterval: "1s", maximumInterval: "30s" },
  }).executeMapItems;
}

export function mapRunner(deps: ControlDeps, events: EventQueue) {
  const { args } = deps;
  return async (node: SnapshotNode, context: NodeContext): Promise<unknown> => {
    const config = node.config as MapConfig;
    const request = { runId: args.runId, node, context };
    await record(() =>
      bookkeeping.recordControlStarted({
        runId: args.runId,
        node_id: node.id,
        node_name: node.name,
        type: node.type,
        status: "running",
        input: { items: config.items, concurrency: config.concurrency, on_item_failure: config.on_item_failure },
      })
    );
    try {
      const counts = await mapActivities.prepareMap(request);
      if (config.node && MAP_WAIT_ITEM_TYPES.includes(config.node.type)) {
        await runWaitItems(deps, events, config, counts, request);
      } else if (config.node) await runItemChunks(config, counts, request);
      else await runChildRuns(deps, config, counts, node, context);
      const finished = await mapActivities.finishMap(request);
      const { failed, total } = finished.counts;
      if (failed > 0 && config.on_item_failure !== "continue") {
        throw nodeFailure("MapItemFailed", `${failed} of ${total} items failed`);
      }
      return finished.output;
    } catch (err) {
      if (isCancellation(err)) {
        await record(() =>
          bookkeeping.recordControlFinished({
            runId: args.runId,
            node_id: node.id,
            status: "cancelled",
            output: undefined,
          })
        );
      } else if ((err as { type?: string }).type !== "MapItemFailed") {
        // A failed item was recorded by finishMap; anything else fails the map here.
        const error = nodeError(err);
        await record(() =>
          bookkeeping.recordControlFinished({
            runId: args.runId,
            node_id: node.id,
            status: "failed",
            output: undefined,
            error,
          })
        );
      }
      throw err;
    }
  };

  async function runItemChunks(
    config: MapConfig,
    counts: MapCounts,
    request: { runId: string; node: SnapshotNode; context: NodeContext },
  ) {
    const run = itemsActivity(config.node!, config.concurrency, args.gpuTaskQueue);
    for (let from = 0; from < counts.total; from += MAP_CHUNK_ITEMS) {
      const done = await run({ ...request, from, to: Math.min(counts.total, from + MAP_CHUNK_ITEMS) });
      if (done.failed > 0 && config.on_item_failure !== "continue") return;
    }
  }
}

/**
 * A child run per item, `concurrency` at a time: from this workflow up to the run's batch size, through mapBatch
 * workflows beyond it (map-children.ts).
 */
async function runChildRuns(
  { args }: ControlDeps,
  config: MapConfig,
  counts: MapCounts,
  node: SnapshotNode,
  context: NodeContext,
) {
  // Items a re-run took from the run it retries (prepareMap) are not run again.
  const pending = counts.pending ?? Array.from({ length: counts.total }, (_, i) => i);
  const batchItems = args.mapBatchItems ?? DEFAULT_MAP_BATCH_ITEMS;
  const batched = pending.length > batchItems && patched(MAP_BATCHES_PATCH);
  if (!batched && counts.total > MAX_MAP_CHILD_RUNS) {
    throw nodeFailure(
      "MapItemsInvalid",
      `a map over a workflow takes at most ${MAX_MAP_CHILD_RUNS} items (got ${counts.total}): map a node, or split the list`,
    );
  }
  const depth = (args.depth ?? 0) + 1;
  const maxDepth = args.maxDepth ?? DEFAULT_MAX_SUB_WORKFLOW_DEPTH;
  if (depth > maxDepth) throw nodeFailure("NestingTooDeep", `sub-workflows nest deeper than ${maxDepth} levels`);
  const items = { run: runLimits(args), node, context };
  if (batched) await runChildBatches(items, pending, batchItems);
  else await runChildItems(items, pending, config.concurrency);
}

/** What the map's child runs and batches take from its run. */
function runLimits(args: RunDagInput): MapBatchInput["run"] {
  const { runId, depth, searchAttributes, gpuTaskQueue, maxHistoryEvents, maxDepth, mapBatchItems } = args;
  return { runId, depth, searchAttributes, gpuTaskQueue, maxHistoryEvents, maxDepth, mapBatchItems };
}
