/**
 * Weft runs started by a run: a sub_workflow node's child, a map item's child, a failed run's error run. The run
 * row is inserted first (a local activity, under an id the workflow chose, so a retried task finds the same
 * row), then the run's runDag starts as a Temporal child workflow of this one.
 */
import {
  ChildWorkflowCancellationType,
  type ChildWorkflowHandle,
  ParentClosePolicy,
  patched,
  startChild,
} from "@temporalio/workflow";
import {
  type ChildRunCreated,
  type RunDagInput,
  type RunLimits,
  WORKFLOW_TYPES,
  workflowIds,
} from "../../core/contract.ts";
import { runSearchAttributes, WORKSPACE_SEARCH_ATTRIBUTE_PATCH } from "../../core/search-attributes.ts";
import type { runDag } from "../run-dag.ts";

/**
 * Starts the created run's runDag. `abandon`: the child outlives this run (an error run starts as its parent
 * fails); otherwise cancelling this run cancels the child, and this run waits for it to end.
 */
export async function startChildRun(
  parent: RunLimits,
  created: ChildRunCreated,
  extra: Pick<RunDagInput, "depth" | "errorRun">,
  abandon = false,
): Promise<ChildWorkflowHandle<typeof runDag>> {
  const args: RunDagInput = {
    runId: created.runId,
    input: created.input,
    snapshot: created.snapshot,
    searchAttributes: parent.searchAttributes,
    gpuTaskQueue: parent.gpuTaskQueue,
    maxHistoryEvents: parent.maxHistoryEvents,
    maxDepth: parent.maxDepth,
    mapBatchItems: parent.mapBatchItems,
    ...extra,
  };
  return await startChild<typeof runDag>(WORKFLOW_TYPES.runDag, {
    workflowId: workflowIds.run(created.runId),
    args: [args],
    cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    parentClosePolicy: abandon ? ParentClosePolicy.ABANDON : ParentClosePolicy.REQUEST_CANCEL,
    // Children started before workspaces carried no WeftWorkspaceId; they replay that way. ownerId is the workspace.
    ...(parent.searchAttributes
      ? {
        typedSearchAttributes: runSearchAttributes(
          created.snapshot.workflow_id,
          created.ownerId,
          "running",
          patched(WORKSPACE_SEARCH_ATTRIBUTE_PATCH),
        ),
      }
      : {}),
  });
}
