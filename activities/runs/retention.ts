/**
 * Run retention: deletes finished runs older than WEFT_RUN_RETENTION_DAYS in small batches (their node
 * executions, stored outputs, events and idempotency keys go with them by ON DELETE CASCADE). Each batch is
 * one short transaction that skips rows others hold locked, so live runs and readers are never blocked.
 */
import { z } from "zod";
import type { PruneBatch } from "../../core/contract.ts";
import type { Sql } from "../../db/client.ts";

export const retentionEnv = {
  /** Finished runs older than this are deleted, hourly, by the retention schedule. */
  WEFT_RUN_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(30),
};

export function createRetention(sql: Sql, retentionDays: number) {
  return {
    /** Deletes at most one batch; answers how many runs went, so the workflow knows whether to go on. */
    async pruneExpiredRuns({ batchSize }: PruneBatch): Promise<{ deleted: number; retentionDays: number }> {
      const rows = await sql`
        WITH doomed AS (
          SELECT id FROM workflow_runs
          WHERE created_at < now() - make_interval(days => ${retentionDays})
            AND status IN ('succeeded', 'failed', 'cancelled')
          ORDER BY created_at
          LIMIT ${batchSize}
          FOR UPDATE SKIP LOCKED
        )
        DELETE FROM workflow_runs r USING doomed WHERE r.id = doomed.id
        RETURNING r.id`;
      return { deleted: rows.length, retentionDays };
    },
  };
}
