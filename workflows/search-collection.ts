/** The API's collection search: one activity on the GPU queue, where the embedding model and indexes are. */
import { proxyActivities } from "@temporalio/workflow";
import type { SearchCollectionInput, SearchCollectionResult, WorkflowActivities } from "../core/contract.ts";

const { searchCollection: search } = proxyActivities<WorkflowActivities>({
  startToCloseTimeout: "60s",
  retry: { maximumAttempts: 3, initialInterval: "200ms" },
});

export async function searchCollection(input: SearchCollectionInput): Promise<SearchCollectionResult> {
  return await search(input);
}
