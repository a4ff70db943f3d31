/**
 * Starting a run's workflow in Temporal, safe to repeat: the workflow id is the run's, a start Temporal already
 * made (or refused because the run existed and closed) is read back instead of made twice, and the run row
 * records Temporal's run id. The execute path, idempotent replays and the orphan sweeper all launch this way.
 */
import type { WorkflowSnapshot } from "../../core/snapshot.ts";
import type { EngineServices } from "../env.ts";
import { WorkflowAlreadyStartedError } from "../temporal/client.ts";
import { recordTemporalRunId } from "./store.ts";
import { startRunWorkflow, temporalWorkflowId } from "./temporal.ts";

export interface LaunchableRun {
  runId: string;
  /** The run's workspace: the tenant its search attributes name. */
  workspaceId: string;
  input: Record<string, unknown>;
  snapshot: WorkflowSnapshot;
  reuse?: Record<string, unknown>;
}

/** The workflow input a run starts with (its size is checked before the run row exists: input-size.ts). */
export function runWorkflowInput(config: EngineServices["config"], run: LaunchableRun) {
  return {
    runId: run.runId,
    input: run.input,
    snapshot: run.snapshot,
    reuse: run.reuse,
    searchAttributes: config.TEMPORAL_SEARCH_ATTRIBUTES,
    maxHistoryEvents: config.WEFT_MAX_HISTORY_EVENTS,
    gpuTaskQueue: config.WEFT_GPU_TASK_QUEUE,
    maxDepth: config.WEFT_MAX_SUB_WORKFLOW_DEPTH,
    // The run is marked running by its first node_executions row (docs/engine.md: bookkeeping per run).
    leanStart: true,
    mapBatchItems: config.WEFT_MAP_BATCH_ITEMS,
  };
}

/** Starts (or finds) the run's workflow and records its Temporal run id; returns that id. */
export async function launchRun(services: EngineServices, run: LaunchableRun): Promise<string> {
  const { sql, config, temporal } = services;
  let temporalRunId: string;
  try {
    temporalRunId = await startRunWorkflow(
      temporal,
      config.WEFT_TASK_QUEUE,
      runWorkflowInput(config, run),
      run.workspaceId,
    );
  } catch (err) {
    if (!(err instanceof WorkflowAlreadyStartedError)) throw err;
    temporalRunId = await temporal.workflowRunId(temporalWorkflowId(run.runId));
  }
  await recordTemporalRunId(sql, run.runId, temporalRunId);
  return temporalRunId;
}
