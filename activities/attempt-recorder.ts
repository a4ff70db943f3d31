/**
 * How one attempt is written to node_executions: a short attempt is one INSERT when it ends (its final status,
 * started_at and duration); an attempt still running after RUNNING_ROW_AFTER_MS writes its `running` row then,
 * so a client sees it running (the run's page, SSE), and updates that row when it ends. Before the handler acts
 * the run is checked to be live (a finished run takes no attempts: RunNotAuthorized), except for node types whose
 * handlers act on nothing outside the worker; their one write is the check. With `runningRowFirst` (group
 * members: a retried group learns from that row that a member's attempt was lost, as Temporal's attempt number
 * tells a lone node), or a log without `recorded` (map items keep their own rows), the attempt is written as
 * before: its running row first, then its end.
 */
import type { AttemptEnd, AttemptStart, createNodeExecutionLog } from "../db/node-executions.ts";

type NodeExecutionLog = ReturnType<typeof createNodeExecutionLog>;
export type AttemptLog =
  & Pick<NodeExecutionLog, "started" | "finished">
  & Partial<Pick<NodeExecutionLog, "recorded" | "live">>;

/** An attempt that takes longer than this shows as running before it ends; a shorter one is written once. */
export const RUNNING_ROW_AFTER_MS = 200;

/** Node types whose handlers only compute (no I/O outside the worker): no liveness read before they run. */
export const SIDE_EFFECT_FREE: ReadonlySet<string> = new Set(["transform"]);

type Begun = Omit<AttemptStart, "input" | "elapsed_ms">;

export function attemptRecorder(
  { recorded, ...log }: AttemptLog,
  begun: Begun,
  input: unknown,
  startedAt: number,
  runningRowFirst = false,
) {
  const oneRow = runningRowFirst ? undefined : recorded;
  const start = () => log.started({ ...begun, input, elapsed_ms: Math.round(performance.now() - startedAt) });
  /** The running row's id once it is written (undefined inside: the run had finished). */
  let runningRow: Promise<number | undefined> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  return {
    /**
     * Whether the attempt may run: false when the run has finished. Also arms the running row for a long
     * attempt; `sideEffectFree` skips the read (the attempt's own write refuses a finished run).
     */
    async admit(sideEffectFree: boolean): Promise<boolean> {
      if (!oneRow) {
        runningRow = start();
        return (await runningRow) !== undefined;
      }
      if (!sideEffectFree && log.live && !(await log.live(begun.run_id))) return false;
      timer = setTimeout(() => {
        runningRow = start();
        // Awaited by end(); a failed write must not count as unhandled while the handler still runs.
        runningRow.catch(() => {});
      }, RUNNING_ROW_AFTER_MS);
      return true;
    },

    /** Records how the attempt ended; false when the run had finished (nothing was written). */
    async end(status: AttemptEnd["status"], output: unknown, error: unknown, duration_ms: number): Promise<boolean> {
      clearTimeout(timer);
      // An attempt that never began (its config could not be prepared) still gets its row.
      if (!runningRow && !oneRow) runningRow = start();
      if (runningRow) {
        const id = await runningRow;
        if (id === undefined) return false;
        await log.finished({ id, run_id: begun.run_id, status, output, error, duration_ms });
        return true;
      }
      return await oneRow!({ ...begun, input, status, output, error, duration_ms });
    },
  };
}
