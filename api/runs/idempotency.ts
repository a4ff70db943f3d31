/**
 * `Idempotency-Key` on execute: the same key from the same user within 24 h returns the run the first
 * request started instead of starting another. Requests with one key are serialised by an advisory lock,
 * so two concurrent retries of a request cannot both start a run.
 */
import type { Services } from "../env.ts";
import { ApiError } from "../errors.ts";
import type { StartedRun } from "./start.ts";
import { temporalUiUrl } from "./temporal.ts";

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
export const IDEMPOTENCY_WINDOW = "24 hours";

export function parseIdempotencyKey(header: string | undefined): string | null {
  if (header === undefined) return null;
  if (!KEY_PATTERN.test(header)) {
    throw new ApiError("VALIDATION_ERROR", "Idempotency-Key must be 1 to 255 visible ASCII characters", [
      { field: "Idempotency-Key", location: "header", message: "invalid format" },
    ]);
  }
  return header;
}

export async function idempotentStart(
  services: Services,
  ownerId: string,
  workflowId: string,
  key: string,
  start: () => Promise<StartedRun>,
): Promise<{ run: StartedRun; replayed: boolean }> {
  return await services.sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`${ownerId}:${key}`}, 7723))`;
    const [existing] = await tx`
      SELECT k.workflow_id, r.id, r.status, r.workflow_version, r.version_hash, r.temporal_workflow_id, r.temporal_run_id
      FROM run_idempotency_keys k JOIN workflow_runs r ON r.id = k.run_id
      WHERE k.owner_id = ${ownerId} AND k.key = ${key}
        AND k.created_at > now() - ${IDEMPOTENCY_WINDOW}::interval`;
    if (existing) {
      if (existing.workflow_id !== workflowId) {
        throw new ApiError("CONFLICT", "this Idempotency-Key was already used to execute another workflow");
      }
      const temporalWorkflowId = existing.temporal_workflow_id as string;
      const temporalRunId = existing.temporal_run_id as string;
      return {
        replayed: true,
        run: {
          run_id: existing.id as string,
          status: existing.status as "pending",
          version: existing.workflow_version as number,
          version_hash: existing.version_hash as string,
          temporal: {
            workflow_id: temporalWorkflowId,
            run_id: temporalRunId,
            ui_url: temporalUiUrl(services.config, temporalWorkflowId, temporalRunId),
          },
        },
      };
    }
    const run = await start();
    await tx`
      INSERT INTO run_idempotency_keys (owner_id, key, workflow_id, run_id) VALUES (${ownerId}, ${key}, ${workflowId}, ${run.run_id})
      ON CONFLICT (owner_id, key) DO UPDATE SET workflow_id = excluded.workflow_id, run_id = excluded.run_id, created_at = now()`;
    return { run, replayed: false };
  });
}
