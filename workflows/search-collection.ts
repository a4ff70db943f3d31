/** The API's collection search: one activity on the GPU queue, where the embedding model and indexes are. */
import { proxyActivities } from "@temporalio/workflow";
import type { Activities } from "../activities/index.ts";

export type SearchCollectionInput = Parameters<Activities["searchCollection"]>[0];

const { searchCollection: search } = proxyActivities<Activities>({
  startToCloseTimeout: "60s",
  retry: { maximumAttempts: 3, initialInterval: "200ms" },
});

export async function searchCollection(input: SearchCollectionInput): ReturnType<Activities["searchCollection"]> {
  return await search(input);
}
