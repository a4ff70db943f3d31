/**
 * One ingestion of documents into a vector collection, durably: embed them (resuming after a crash where the
 * last batch ended), then commit them to the collection's index. Started by the API on the GPU queue, so its
 * activities run where the embedding model is. A failure is recorded on the ingestion before the workflow fails.
 */
import { ApplicationFailure, CancellationScope, proxyActivities } from "@temporalio/workflow";
import type { IngestDocumentsInput, WorkflowActivities } from "../core/contract.ts";

const { embedIngestion } = proxyActivities<WorkflowActivities>({
  startToCloseTimeout: "2h",
  heartbeatTimeout: "60s",
  retry: { maximumAttempts: 10, initialInterval: "1s", maximumInterval: "1m" },
});

const { commitIngestion, failIngestion } = proxyActivities<WorkflowActivities>({
  startToCloseTimeout: "30m",
  heartbeatTimeout: "60s",
  retry: { maximumAttempts: 20, initialInterval: "1s", maximumInterval: "1m" },
});

export async function ingestDocuments({ ingestionId }: IngestDocumentsInput): Promise<{ document_count: number }> {
  try {
    await embedIngestion({ ingestionId });
    const committed = await commitIngestion({ ingestionId });
    if (!committed) throw ApplicationFailure.nonRetryable("the collection was deleted", "CollectionNotFound");
    return committed;
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    const message = cause?.message ?? (err as Error).message ?? String(err);
    await CancellationScope.nonCancellable(() => failIngestion({ ingestionId, message }));
    throw err;
  }
}
