/**
 * The workflow the retention schedule (api/retention.ts) starts hourly: delete expired runs batch by batch until
 * none are left, continuing as new past a bound so its history stays small however much there is to delete.
 */
import { continueAsNew, proxyActivities } from "@temporalio/workflow";
import type { PruneRunsInput, WorkflowActivities } from "../core/contract.ts";

const { pruneExpiredRuns } = proxyActivities<WorkflowActivities>({
  startToCloseTimeout: "2m",
  retry: { maximumAttempts: 5, initialInterval: "5s" },
});

const BATCHES_PER_EXECUTION = 200;

export async function pruneRuns(args: PruneRunsInput = {}): Promise<{ deleted: number }> {
  const batchSize = args.batchSize ?? 500;
  let deleted = 0;
  for (let i = 0; i < BATCHES_PER_EXECUTION; i++) {
    const batch = await pruneExpiredRuns({ batchSize });
    deleted += batch.deleted;
    if (batch.deleted < batchSize) return { deleted };
  }
  return await continueAsNew<typeof pruneRuns>(args);
}
