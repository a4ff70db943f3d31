/** Starting a run from the API (execute, webhooks, re-runs): snapshot, insert the run row, launch runDag in Temporal. */
import type { WorkflowSnapshot } from "../../core/snapshot.ts";
import { appendAudit, type AuditRow } from "../../db/audit-log.ts";
import type { Sql } from "../../db/client.ts";
import { insertRun, type NewRun, type RunTrigger, type SnapshotSource, snapshotWorkflow } from "../../db/runs.ts";
import type { EngineServices } from "../env.ts";
import { ApiError, engineUnavailable } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { assertStartable } from "./input-size.ts";
import { claimKey, findKeyedRun, type KeyScope } from "./idempotency.ts";
import { launchRun, runWorkflowInput } from "./launch.ts";
import { deleteUnlaunchedRun } from "./store.ts";
import { temporalUiUrl, temporalWorkflowId as temporalWorkflowIdOf } from "./temporal.ts";

/** What a refused start tells the client to wait before trying again. */
const START_RETRY_AFTER_SECONDS = 5;

export interface StartRunRequest {
  /** The workflow's settings a snapshot pins; ownership is the caller's to check. */
  workflow: SnapshotSource;
  /** The run's workspace (its workflow's). */
  workspaceId: string;
  /** Who starts it: the person (null for an API key, a webhook or a schedule) and the actor an
   * Idempotency-Key belongs to (the person's or the key's id). */
  startedBy: string | null;
  actorId: string;
  input: Record<string, unknown>;
  trigger: RunTrigger;
  retryOf?: string;
  /** Run this snapshot instead of the workflow's current graph (re-runs on their pinned version). */
  snapshot?: WorkflowSnapshot;
  /** Outputs to reuse by node id (re-runs). */
  reuse?: Record<string, unknown>;
  /** Its audit row (`run.started`, `run.retried`), written with the run row; given the new run's id. */
  audit: (runId: string) => AuditRow;
  /** Marks the start's phases (prepare, insert, temporal; or replay) for a Server-Timing answer. */
  timing?: { mark(phase: string): void };
}

/** What execute and a webhook answer with 202. */
export interface StartedRun {
  run_id: string;
  status: "pending";
  version: number;
  version_hash: string;
  temporal: { workflow_id: string; run_id: string; ui_url: string };
}

class KeyTaken extends Error {}

/**
 * Inserts the run (and claims the Idempotency-Key) in one short transaction; false when the key is taken. The
 * row exists before any workflow can act for it; if the process dies after this, the orphan sweeper launches it.
 */
async function insertRunOnce(
  sql: Sql,
  run: NewRun,
  key: string | null,
  keyScope: KeyScope,
  audit: AuditRow,
): Promise<boolean> {
  try {
    await sql.begin(async (tx) => {
      const t = tx as unknown as Sql;
      await insertRun(t, run);
      await appendAudit(t, audit);
      if (key && !(await claimKey(t, keyScope, key, run.workflowId, run.runId))) throw new KeyTaken();
    });
    return true;
  } catch (err) {
    if (err instanceof KeyTaken) return false;
    throw err;
  }
}

/**
 * Starts a run; with an Idempotency-Key, answers with the key's run instead when there is one (`replayed`).
 * No connection is held while Temporal is called, and a start Temporal refused leaves no run behind.
 */
export async function startRun(
  services: EngineServices,
  logger: Logger,
  request: StartRunRequest,
  idempotencyKey: string | null = null,
): Promise<StartedRun & { replayed?: true }> {
  const { sql, config } = services;
  const { workflow, workspaceId, startedBy, input, trigger, retryOf, reuse } = request;
  const keyScope = { workspaceId, actorId: request.actorId };
  const workflowId = workflow.id;
  const replay = async () => {
    const run = idempotencyKey && await findKeyedRun(services, logger, keyScope, workflowId, idempotencyKey);
    return run ? { ...run, replayed: true as const } : null;
  };
  const earlier = await replay();
  if (earlier) {
    request.timing?.mark("replay");
    return earlier;
  }
  // An invalid graph is answered INVALID_GRAPH by the error mapper (api/errors.ts).
  const snapshot = request.snapshot ?? await snapshotWorkflow(sql, workflow);
  const runId = crypto.randomUUID();
  const run: NewRun = { runId, retryOf, workflowId, workspaceId, startedBy, input, snapshot, trigger, reuse };
  // Before the run row exists: a run too large for the engine leaves nothing behind.
  await assertStartable(
    [runWorkflowInput(config, { runId, workspaceId, input, snapshot, reuse })],
    services.codec,
    config.WEFT_MAX_WORKFLOW_INPUT_BYTES,
  );
  request.timing?.mark("prepare");
  if (!(await insertRunOnce(sql, run, idempotencyKey, keyScope, request.audit(runId)))) {
    const winner = await replay();
    request.timing?.mark("replay");
    if (winner) return winner;
    // The key's other request rolled back meanwhile (its start failed): the client may simply try again.
    throw new ApiError("CONFLICT", "a request with this Idempotency-Key was being processed; try again", undefined, {
      retryAfterSeconds: 1,
    });
  }
  request.timing?.mark("insert");
  let temporalRunId: string;
  try {
    temporalRunId = await launchRun(services, { runId, workspaceId, input, snapshot, reuse });
  } catch (err) {
    // Refused: nothing of the run stays behind (the key goes with it), and the client is told to come back.
    await deleteUnlaunchedRun(sql, runId);
    logger.error("temporal start failed", { run_id: runId, error: (err as Error).message });
    throw engineUnavailable("the run was not started", { retryAfterSeconds: START_RETRY_AFTER_SECONDS });
  }
  request.timing?.mark("temporal");
  const temporalWorkflowId = temporalWorkflowIdOf(runId);
  logger.info("run started", {
    run_id: runId,
    workflow_id: workflowId,
    temporal_workflow_id: temporalWorkflowId,
    trigger,
  });
  return {
    run_id: runId,
    status: "pending",
    version: snapshot.version,
    version_hash: snapshot.hash,
    temporal: {
      workflow_id: temporalWorkflowId,
      run_id: temporalRunId,
      ui_url: temporalUiUrl(config, temporalWorkflowId, temporalRunId),
    },
  };
}
