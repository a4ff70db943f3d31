/** How the API talks to Temporal: start the DAG workflow by name, and reconcile runs Temporal ended. */
import type { Client } from "@temporalio/client";
import type { RunDagInput } from "../../core/snapshot.ts";
import { runSearchAttributes } from "../../core/search-attributes.ts";
import type { ApiConfig } from "../config.ts";

export const RUN_WORKFLOW_TYPE = "runDag";

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
  client: Client,
  taskQueue: string,
  input: RunDagInput,
  ownerId: string,
): Promise<string> {
  const handle = await client.workflow.start(RUN_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: temporalWorkflowId(input.runId),
    args: [input],
    ...(input.searchAttributes
      ? { typedSearchAttributes: runSearchAttributes(input.snapshot.workflow_id, ownerId, "running") }
      : {}),
  });
  return handle.firstExecutionRunId;
}

/** Temporal's view of a run that the database still calls unfinished, or null when it is still running. */
export async function closedStatus(
  client: Client,
  workflowId: string,
): Promise<{ status: "failed" | "cancelled"; reason: string } | null> {
  const description = await client.workflow.getHandle(workflowId).describe();
  const name = description.status.name;
  if (name === "RUNNING" || name === "COMPLETED" || name === "CONTINUED_AS_NEW") return null;
  if (name === "CANCELLED") return { status: "cancelled", reason: "the workflow was cancelled in Temporal" };
  return { status: "failed", reason: `the workflow ended in Temporal as ${name}` };
}
