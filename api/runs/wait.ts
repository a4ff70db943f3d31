/**
 * Waiting for a run to end (GET a run, execute or a webhook with `?wait`), on the run's events rather than by
 * polling: the final status write's NOTIFY wakes the waiter, which answers after two reads.
 */
import type { Services } from "../env.ts";
import type { Logger } from "../logger.ts";
import type { Subscription } from "./event-hub.ts";
import { runView } from "./run-view.ts";
import { FINAL_RUN_STATUSES, getOwnedRun, nodeExecutions, runProgress } from "./store.ts";

/**
 * Waits until the run's events say it ended, `timeoutMs` passes or the client goes away. Listens through the
 * process's one LISTEN connection (the event hub), from the run's latest event on (or from `fromEventId`, 0 for
 * a run just started, which spares reading where it stands), so no end can slip between the check and the
 * subscription.
 */
export async function waitForRunEnd(
  services: Pick<Services, "sql" | "events">,
  logger: Logger,
  runId: string,
  timeoutMs: number,
  signal: AbortSignal,
  fromEventId?: bigint,
): Promise<void> {
  let from = fromEventId;
  if (from === undefined) {
    const { status, lastEventId } = await runProgress(services.sql, runId);
    if (FINAL_RUN_STATUSES.has(status)) return;
    from = lastEventId;
  }
  let sub: Subscription;
  try {
    sub = await services.events.subscribe(runId, from, true);
  } catch (err) {
    logger.warn("cannot wait for the run's end; answering at once", { run_id: runId, error: (err as Error).message });
    return;
  }
  const onAbort = () => sub.close();
  signal.addEventListener("abort", onAbort);
  try {
    const deadline = Date.now() + timeoutMs;
    while (!sub.closed && Date.now() < deadline) {
      const events = await sub.next(deadline - Date.now());
      if (
        events.some((e) => e.type === "run" && FINAL_RUN_STATUSES.has((e.data as { status?: string }).status ?? ""))
      ) {
        return;
      }
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    sub.close();
  }
}

/** Which run a start waits for, and whether the request just started it (no events of it read before). */
export interface StartedRunRef {
  workflowId: string;
  runId: string;
  workspaceId: string;
  fresh: boolean;
}

/**
 * The phases of a start's answer as a `Server-Timing` header (ms): `prepare` (snapshot, size check), `insert` (the
 * run row), `temporal` (the workflow's start) or `replay` (an Idempotency-Key's run), then `wait` (the engine's
 * share: until the run's end is heard) and `read`: where a one-request run's time goes.
 */
export class StartTiming {
  private readonly phases: string[] = [];
  private last = performance.now();

  mark(phase: string) {
    const now = performance.now();
    this.phases.push(`${phase};dur=${(now - this.last).toFixed(1)}`);
    this.last = now;
  }

  get header() {
    return this.phases.join(", ");
  }
}

/**
 * For execute and webhooks with `?wait=N`: the run as GET answers it once it ended within `seconds`, or null
 * (keep the 202) when it did not, the client left, or `seconds` is 0.
 */
export async function finishedRun(
  services: Services,
  logger: Logger,
  run: StartedRunRef,
  seconds: number,
  signal: AbortSignal,
  timing?: StartTiming,
) {
  if (seconds <= 0) return null;
  await waitForRunEnd(services, logger, run.runId, seconds * 1000, signal, run.fresh ? 0n : undefined);
  timing?.mark("wait");
  // Both reads at once: the answer leaves one round trip after the wake-up, not two.
  const [row, executions] = await Promise.all([
    getOwnedRun(services.sql, run.workflowId, run.runId, run.workspaceId),
    nodeExecutions(services.sql, run.runId),
  ]);
  const view = FINAL_RUN_STATUSES.has(row.status) ? await runView(services, row, executions) : null;
  timing?.mark("read");
  return view;
}
