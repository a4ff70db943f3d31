/**
 * The orphan sweeper: every run the API accepted reaches a final state even when the API died between
 * inserting the run and Temporal confirming its workflow start. Pending runs without a Temporal run id older
 * than a bound are launched again (launch.ts: a start Temporal already made is found, never repeated); one
 * that still cannot be launched long after (Temporal away for good) is closed as failed. Scheduled runs are
 * left alone: their rows are made by the schedule's own workflow, which is already running.
 * Every API replica may sweep; two launching the same run at once is harmless for the same reason.
 */
import type { EngineServices } from "../env.ts";
import type { Logger } from "../logger.ts";
import { launchRun } from "./launch.ts";
import { failUnlaunchedRun, unlaunchedRuns } from "./store.ts";

const BATCH = 50;

/** One pass; returns how many runs it launched and how many it failed. */
export async function sweepOrphanedRuns(services: EngineServices, logger: Logger) {
  const { sql, config } = services;
  const rows = await unlaunchedRuns(sql, {
    afterMs: config.WEFT_ORPHAN_AFTER_MS,
    failAfterMs: config.WEFT_ORPHAN_FAIL_AFTER_MS,
    limit: BATCH,
  });
  let launched = 0;
  let failed = 0;
  for (const row of rows) {
    try {
      await launchRun(services, {
        runId: row.id,
        workspaceId: row.workspace_id,
        input: row.input,
        snapshot: row.snapshot,
        reuse: row.start_reuse ?? undefined,
      });
      launched++;
      logger.warn("orphaned run launched", { run_id: row.id });
    } catch (err) {
      if (!row.give_up) {
        logger.warn("orphaned run not launched yet", { run_id: row.id, error: (err as Error).message });
        continue;
      }
      if (await failUnlaunchedRun(sql, row.id)) failed++;
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
