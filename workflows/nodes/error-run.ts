/**
 * Error workflows: when a run fails (not when it is cancelled) and its workflow names an error workflow, a run
 * of that workflow starts with what failed. It starts from the failed run's own workflow, as an abandoned child
 * under an id chosen here, so it starts once however often the worker crashes; runs of an error workflow never
 * start another.
 */
import { patched, uuid4 } from "@temporalio/workflow";
import type { RunDagInput, RunFailure } from "../../core/contract.ts";
import { bookkeeping, record } from "../activity-options.ts";
import { startChildRun } from "./child-runs.ts";

/** Marks histories whose failed runs look for an error workflow; older ones replay without the lookup. */
export const ERROR_WORKFLOW_PATCH = "weft-error-workflow";

export async function startErrorRun(args: RunDagInput, failure: RunFailure): Promise<void> {
  if (args.errorRun || !patched(ERROR_WORKFLOW_PATCH)) return;
  const created = await record(() => bookkeeping.createErrorRun({ failedRunId: args.runId, runId: uuid4(), failure }));
  if (created) await record(() => startChildRun(args, created, { errorRun: true, depth: 0 }, true));
}
