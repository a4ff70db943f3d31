/**
 * A run Temporal ended without the workflow recording it (terminated by an operator, say) is closed here. Temporal
 * is asked about a given unfinished run at most every `everyMs`, however often clients poll it: one reconciler per
 * app (a service: api/env.ts) holds when each run was last asked about.
 */
import type { Services } from "../env.ts";
import { closeRun, FINAL_RUN_STATUSES, type RunRow } from "./store.ts";
import { closedStatus } from "./temporal.ts";

const MAX_TRACKED = 10_000;

export class RunReconciler {
  private readonly lastAsked = new Map<string, number>();

  constructor(
    private readonly services: Pick<Services, "sql" | "temporal" | "logger">,
    private readonly everyMs = 3000,
  ) {}

  /** The run as it stands once Temporal's view is taken into account; `force` skips the throttle. */
  async reconcile(row: RunRow, force = false): Promise<RunRow> {
    if (FINAL_RUN_STATUSES.has(row.status)) return row;
    const now = Date.now();
    if (!force && now - (this.lastAsked.get(row.id) ?? 0) < this.everyMs) return row;
    if (this.lastAsked.size > MAX_TRACKED) this.lastAsked.clear();
    this.lastAsked.set(row.id, now);
    const { sql, temporal, logger } = this.services;
    try {
      const closed = await closedStatus(temporal, row.temporal_workflow_id);
      if (!closed) return row;
      return (await closeRun(sql, row.id, closed)) ?? row;
    } catch (err) {
      // A scheduled run's row exists a moment before its Temporal workflow does.
      if ((err as Error).name === "WorkflowNotFoundError" && row.status === "pending") return row;
      logger.warn("could not reconcile run with Temporal", { run_id: row.id, error: (err as Error).message });
      return row;
    }
  }
}
