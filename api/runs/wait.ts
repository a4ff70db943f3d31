/** Waiting for a run to end (GET a run with `?wait`), on the run's events rather than by polling. */
import type { Services } from "../env.ts";
import type { Logger } from "../logger.ts";
import type { Subscription } from "./event-hub.ts";
import { FINAL_RUN_STATUSES, runProgress } from "./store.ts";

/**
 * Waits until the run's events say it ended, `timeoutMs` passes or the client goes away. Listens through the
 * process's one LISTEN connection (the event hub), from the run's latest event on, so no end can slip between
 * the check and the subscription.
 */
export async function waitForRunEnd(
  services: Pick<Services, "sql" | "events">,
  logger: Logger,
  runId: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const { status, lastEventId } = await runProgress(services.sql, runId);
  if (FINAL_RUN_STATUSES.has(status)) return;
  let sub: Subscription;
  try {
    sub = await services.events.subscribe(runId, lastEventId);
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
