/**
 * The workflow a Temporal Schedule starts on each firing: record a run of the workflow's current version
 * (an activity), then execute it as a child runDag, so the run is tracked exactly like an API-started one.
 */
import { executeChild, patched, proxyActivities, uuid4 } from "@temporalio/workflow";
import {
  type RunDagResult,
  type ScheduledRunInput,
  WORKFLOW_TYPES,
  type WorkflowActivities,
  workflowIds,
} from "../core/contract.ts";
import { runSearchAttributes, WORKSPACE_SEARCH_ATTRIBUTE_PATCH } from "../core/search-attributes.ts";
import type { runDag } from "./run-dag.ts";

const { createScheduledRun } = proxyActivities<WorkflowActivities>({
  startToCloseTimeout: "30s",
  retry: { maximumAttempts: 10, initialInterval: "1s", maximumInterval: "30s" },
});

export async function scheduledRun(args: ScheduledRunInput): Promise<RunDagResult> {
  // uuid4() is replay-safe; the activity is idempotent on it, so a retry never inserts a second run.
  const { runId, snapshot, input } = await createScheduledRun({ ...args, runId: uuid4() });
  // Same id scheme as API-started runs (weft-run-<run id>), so reconciliation and UI links work unchanged.
  return await executeChild<typeof runDag>(WORKFLOW_TYPES.runDag, {
    workflowId: workflowIds.run(runId),
    // The API's limits ride on the schedule's action (absent on schedules made before: the run's defaults).
    args: [{
      runId,
      input,
      snapshot,
      searchAttributes: args.searchAttributes,
      gpuTaskQueue: args.gpuTaskQueue,
      maxDepth: args.maxDepth,
      maxHistoryEvents: args.maxHistoryEvents,
      mapBatchItems: args.mapBatchItems,
    }],
    // Firings recorded before workspaces started their child without WeftWorkspaceId; they replay that way
    // (test/histories/scheduled-run.before-workspace-attribute.json). args.ownerId is the workspace.
    ...(args.searchAttributes
      ? {
        typedSearchAttributes: runSearchAttributes(
          snapshot.workflow_id,
          args.ownerId,
          "running",
          patched(WORKSPACE_SEARCH_ATTRIBUTE_PATCH),
        ),
      }
      : {}),
  });
}
