/**
 * The orphan sweeper: every run the API accepted reaches a final state even when the API died between
 * inserting the run and Temporal confirming its workflow start. Pending runs without a Temporal run id older
 * than a bound are launched again (launch.ts: a start Temporal already made is found, never repeated); one
 * that still cannot be launched long after (Temporal away for good) is closed as failed. Scheduled runs are
 * left alone: their rows are made by the schedule's own workflow, which is already running.
 * Every API replica may sweep; two launching the same run at once is harmless for the same reason.
 */
import type { WorkflowSnapshot } from "../../core/snapshot.ts";
import type { EngineServices } from "../env.ts";
import type { Logger } from "../logger.ts";
import { launchRun } from "./launch.ts";

const BATCH = 50;

/** One pass; returns how many runs it launched and how many it failed. */
export async function sweepOrphanedRuns(services: EngineServices, logger: Logger) {
  const { sql, config } = services;
  const rows = await sql`
    SELECT id, owner_id, input, snapshot, start_reuse,
      created_at < now() - ${config.WEFT_ORPHAN_FAIL_AFTER_MS} * interval '1 millisecond' AS give_up
    FROM workflow_runs
    WHERE status = 'pending' AND temporal_run_id IS NULL AND trigger <> 'schedule'
      AND created_at < now() - ${config.WEFT_ORPHAN_AFTER_MS} * interval '1 millisecond'
    ORDER BY created_at LIMIT ${BATCH}`;
  let launched = 0;
  let failed = 0;
  for (const row of rows) {
    try {
      await launchRun(services, {
        runId: row.id as string,
        ownerId: row.owner_id as string,
        input: row.input as Record<string, unknown>,
        snapshot: row.snapshot as WorkflowSnapshot,
        reuse: (row.start_reuse as Record<string, unknown> | null) ?? undefined,
      });
      launched++;
      logger.warn("orphaned run launched", { run_id: row.id });
    } catch (err) {
      if (!row.give_up) {
        logger.warn("orphaned run not launched yet", { run_id: row.id, error: (err as Error).message });
        continue;
      }
      const closed = await sql`
        UPDATE workflow_runs SET status = 'failed', finished_at = now(),
          error = ${sql.json({ type: "StartLost", message: "the run could not be started in Temporal" })}
        WHERE id = ${row.id as string} AND status = 'pending' AND temporal_run_id IS NULL RETURNING id`;
      if (closed.length) failed++;
      logger.error("orphaned run closed as failed", { run_id: row.id, error: (err as Error).message });
    }
  }
  return { launched, failed };
}

/** Sweeps every `WEFT_ORPHAN_SWEEP_MS` until the returned function is called (0: never). */
export function startOrphanSweeper(services: EngineServices, logger: Logger): () => void {
  const every = services.config.WEFT_ORPHAN_SWEEP_MS;
  if (every === 0) return () => {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const tick = async () => {
    try {
      await sweepOrphanedRuns(services, logger);
    } catch (err) {
      logger.warn("orphan sweep failed", { error: (err as Error).message });
    }
    if (!stopped) timer = setTimeout(tick, every);
  };
  timer = setTimeout(tick, every);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
