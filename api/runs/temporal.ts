/** How the API talks to Temporal: start the DAG workflow by name, and reconcile runs Temporal ended. */
import { type RunDagInput, WORKFLOW_TYPES, workflowArgs } from "../../core/contract.ts";
import { WEFT_OWNER_ID, WEFT_STATUS, WEFT_WORKFLOW_ID, WEFT_WORKSPACE_ID } from "../../core/search-attributes.ts";
import type { ApiConfig } from "../config.ts";
import type { TemporalApi } from "../temporal/client.ts";

export const RUN_WORKFLOW_TYPE = WORKFLOW_TYPES.runDag;

export { temporalWorkflowId } from "../../db/runs.ts";
import { temporalWorkflowId } from "../../db/runs.ts";

export function temporalUiUrl(
  config: Pick<ApiConfig, "TEMPORAL_UI_URL" | "TEMPORAL_NAMESPACE">,
  workflowId: string,
  runId: string | null,
) {
  const base = `${config.TEMPORAL_UI_URL.replace(/\/$/, "")}/namespaces/${
    encodeURIComponent(config.TEMPORAL_NAMESPACE)
  }`;
  return `${base}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${runId}/history` : ""}`;
}

export async function startRunWorkflow(
  temporal: TemporalApi,
  taskQueue: string,
  input: RunDagInput,
  workspaceId: string,
): Promise<string> {
  const { runId } = await temporal.startWorkflow(RUN_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: temporalWorkflowId(input.runId),
    args: workflowArgs("runDag", input),
    rejectDuplicate: true,
    ...(input.searchAttributes
      ? {
        searchAttributes: {
          [WEFT_WORKFLOW_ID.name]: input.snapshot.workflow_id,
          // The tenant: the run's workspace (a personal workspace's id is its user's, as before workspaces).
          [WEFT_OWNER_ID.name]: workspaceId,
          [WEFT_WORKSPACE_ID.name]: workspaceId,
          [WEFT_STATUS.name]: "running",
        },
      }
      : {}),
  });
  return runId;
}

/** Temporal's view of a run that the database still calls unfinished, or null when it is still running. */
export async function closedStatus(
  temporal: TemporalApi,
  workflowId: string,
): Promise<{ status: "failed" | "cancelled"; reason: string } | null> {
  const name = await temporal.workflowStatus(workflowId);
  if (name === "RUNNING" || name === "COMPLETED" || name === "CONTINUED_AS_NEW") return null;
  if (name === "CANCELED") return { status: "cancelled", reason: "the workflow was cancelled in Temporal" };
  return { status: "failed", reason: `the workflow ended in Temporal as ${name}` };
}
