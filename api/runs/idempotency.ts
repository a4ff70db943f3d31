/**
 * `Idempotency-Key` on execute: the same key from the same user within 24 h returns the run the first
 * request started instead of starting another. The key is claimed in the same short transaction that inserts
 * the run (start.ts), on that transaction's one connection: a concurrent request with the key waits only for
 * that row lock, never for a second pool connection or for Temporal, so a burst of keyed requests cannot wedge
 * the pool. The loser of the race rolls its run back and answers with the winner's.
 */
import type { Sql } from "../../db/client.ts";
import type { WorkflowSnapshot } from "../../core/snapshot.ts";
import type { EngineServices } from "../env.ts";
import { ApiError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { launchRun } from "./launch.ts";
import type { StartedRun } from "./start.ts";
import { temporalUiUrl } from "./temporal.ts";

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
export const IDEMPOTENCY_WINDOW = "24 hours";

/** Keys are per workspace and actor (a person or an API key): two callers never share one. */
export interface KeyScope {
  workspaceId: string;
  actorId: string;
}

export function parseIdempotencyKey(header: string | undefined): string | null {
  if (header === undefined) return null;
  if (!KEY_PATTERN.test(header)) {
    throw new ApiError("VALIDATION_ERROR", "Idempotency-Key must be 1 to 255 visible ASCII characters", [
      { field: "Idempotency-Key", location: "header", message: "invalid format" },
    ]);
  }
  return header;
}

/**
 * Claims `key` for `runId` inside the caller's transaction; false when a live claim by another run exists (a
 * claim in flight is waited for by PostgreSQL itself: the insert blocks on its row until it commits or not).
 */
export async function claimKey(tx: Sql, scope: KeyScope, key: string, workflowId: string, runId: string) {
  const rows = await tx`
    INSERT INTO run_idempotency_keys (workspace_id, actor_id, key, workflow_id, run_id)
    VALUES (${scope.workspaceId}, ${scope.actorId}, ${key}, ${workflowId}, ${runId})
    ON CONFLICT (workspace_id, actor_id, key) DO UPDATE
      SET workflow_id = excluded.workflow_id, run_id = excluded.run_id, created_at = now()
      WHERE run_idempotency_keys.created_at <= now() - ${IDEMPOTENCY_WINDOW}::interval
    RETURNING run_id`;
  return rows.length === 1;
}

/**
 * The run a live key names, as execute answers it, or null. A run whose workflow start was lost (the API died
 * before Temporal confirmed it) is launched here, so a client's retry after a crash gets a run that proceeds.
 */
export async function findKeyedRun(
  services: EngineServices,
  logger: Logger,
  scope: KeyScope,
  workflowId: string,
  key: string,
): Promise<StartedRun | null> {
  const { sql } = services;
  const [existing] = await sql`
    SELECT k.workflow_id, r.id, r.status, r.workflow_version, r.version_hash, r.temporal_workflow_id,
      r.temporal_run_id, r.input, r.snapshot, r.start_reuse
    FROM run_idempotency_keys k JOIN workflow_runs r ON r.id = k.run_id
    WHERE k.workspace_id = ${scope.workspaceId} AND k.actor_id = ${scope.actorId} AND k.key = ${key}
      AND k.created_at > now() - ${IDEMPOTENCY_WINDOW}::interval`;
  if (!existing) return null;
  if (existing.workflow_id !== workflowId) {
    throw new ApiError("CONFLICT", "this Idempotency-Key was already used to execute another workflow");
  }
  let temporalRunId = existing.temporal_run_id as string | null;
  if (!temporalRunId && existing.status === "pending") {
    try {
      temporalRunId = await launchRun(services, {
        runId: existing.id as string,
        workspaceId: scope.workspaceId,
        input: existing.input as Record<string, unknown>,
        snapshot: existing.snapshot as WorkflowSnapshot,
        reuse: (existing.start_reuse as Record<string, unknown> | null) ?? undefined,
      });
    } catch (err) {
      // The run stays accepted: the orphan sweeper launches it once Temporal answers.
      logger.warn("could not launch a replayed run yet", { run_id: existing.id, error: (err as Error).message });
    }
  }
  const temporalWorkflowId = existing.temporal_workflow_id as string;
  return {
    run_id: existing.id as string,
    status: existing.status as "pending",
    version: existing.workflow_version as number,
    version_hash: existing.version_hash as string,
    temporal: {
      workflow_id: temporalWorkflowId,
      run_id: temporalRunId as string,
      ui_url: temporalUiUrl(services.config, temporalWorkflowId, temporalRunId),
    },
  };
}
