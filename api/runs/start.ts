/** Starting a run from the API (execute, webhooks): snapshot, insert the run row, start runDag in Temporal. */
import type { WorkflowSnapshot } from "../../core/snapshot.ts";
import type { Sql } from "../../db/client.ts";
import { insertRun, InvalidGraphError, type RunTrigger, snapshotWorkflow } from "../../db/runs.ts";
import type { Services } from "../env.ts";
import { ApiError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { Row } from "../workflows/store.ts";
import { assertStartable } from "./input-size.ts";
import { startRunWorkflow, temporalUiUrl, temporalWorkflowId } from "./temporal.ts";

export interface StartRunRequest {
  /** The workflow row (id, version, max_parallel at least); ownership is the caller's to check. */
  workflow: Row;
  ownerId: string;
  input: Record<string, unknown>;
  trigger: RunTrigger;
  retryOf?: string;
  /** Run this snapshot instead of the workflow's current graph (re-runs on their pinned version). */
  snapshot?: WorkflowSnapshot;
  /** Outputs to reuse by node id (re-runs). */
  reuse?: Record<string, unknown>;
}

/** What execute and a webhook answer with 202. */
export interface StartedRun {
  run_id: string;
  status: "pending";
  version: number;
  version_hash: string;
  temporal: { workflow_id: string; run_id: string; ui_url: string };
}

async function buildSnapshot(sql: Sql, workflow: Row): Promise<WorkflowSnapshot> {
  try {
    return await snapshotWorkflow(sql, workflow);
  } catch (err) {
    if (err instanceof InvalidGraphError) {
      throw new ApiError("INVALID_GRAPH", err.message, { errors: err.errors });
    }
    throw err;
  }
}

export async function startRun(services: Services, logger: Logger, request: StartRunRequest): Promise<StartedRun> {
  const { sql, config, temporal } = services;
  const { workflow, ownerId, input, trigger, retryOf } = request;
  const snapshot = request.snapshot ?? await buildSnapshot(sql, workflow);
  const runId = crypto.randomUUID();
  const workflowId = temporalWorkflowId(runId);
  const runInput = {
    runId,
    input,
    snapshot,
    reuse: request.reuse,
    searchAttributes: config.TEMPORAL_SEARCH_ATTRIBUTES,
    maxHistoryEvents: config.WEFT_MAX_HISTORY_EVENTS,
    gpuTaskQueue: config.WEFT_GPU_TASK_QUEUE,
  };
  // Before the run row exists: a refused start leaves nothing behind.
  await assertStartable([runInput], services.codec, config.WEFT_MAX_WORKFLOW_INPUT_BYTES);
  await insertRun(sql, { runId, retryOf, workflowId: workflow.id as string, ownerId, input, snapshot, trigger });
  let temporalRunId: string;
  try {
    temporalRunId = await startRunWorkflow(temporal, config.WEFT_TASK_QUEUE, runInput, ownerId);
  } catch (err) {
    // Never leave an accepted-looking run behind: it is closed as failed, and the client told why.
    await sql`UPDATE workflow_runs SET status = 'failed', finished_at = now(),
      error = ${sql.json({ message: "could not start the run in Temporal" })} WHERE id = ${runId}`;
    logger.error("temporal start failed", { run_id: runId, error: (err as Error).message });
    throw new ApiError("SERVICE_UNAVAILABLE", "the workflow engine is unavailable; the run was not started", {
      run_id: runId,
    });
  }
  await sql`UPDATE workflow_runs SET temporal_run_id = ${temporalRunId} WHERE id = ${runId}`;
  logger.info("run started", { run_id: runId, workflow_id: workflow.id, temporal_workflow_id: workflowId, trigger });
  return {
    run_id: runId,
    status: "pending",
    version: snapshot.version,
    version_hash: snapshot.hash,
    temporal: {
      workflow_id: workflowId,
      run_id: temporalRunId,
      ui_url: temporalUiUrl(config, workflowId, temporalRunId),
    },
  };
}
