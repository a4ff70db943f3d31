/** How the API reaches the GPU queue for vectors: ingestion workflows and search, started by name. */
import { type Client, WorkflowFailedError } from "@temporalio/client";
import { ApplicationFailure } from "@temporalio/common";
import { ApiError } from "../errors.ts";

export const INGEST_WORKFLOW_TYPE = "ingestDocuments";
export const SEARCH_WORKFLOW_TYPE = "searchCollection";

/** Long enough for a cold GPU worker to load the embedding model; a search that takes longer is answered 503. */
const SEARCH_TIMEOUT = "30s";

export const ingestionWorkflowId = (ingestionId: string) => `weft-ingest-${ingestionId}`;

export async function startIngestion(
  client: Client,
  taskQueue: string,
  input: { ingestionId: string; collectionId: string },
): Promise<string> {
  const workflowId = ingestionWorkflowId(input.ingestionId);
  await client.workflow.start(INGEST_WORKFLOW_TYPE, { taskQueue, workflowId, args: [input] });
  return workflowId;
}

export interface SearchInput {
  collectionId: string;
  ownerId: string;
  query: string;
  top_k: number;
  score_threshold?: number;
  filter?: Record<string, unknown>;
}

/** The innermost ApplicationFailure of a failed workflow: what the activity threw. */
function applicationCause(err: unknown): ApplicationFailure | null {
  let e = err as { cause?: unknown } | undefined;
  let found: ApplicationFailure | null = null;
  while (e) {
    if (e instanceof ApplicationFailure) found = e;
    e = e.cause as { cause?: unknown } | undefined;
  }
  return found;
}

export async function searchOnGpu(client: Client, taskQueue: string, input: SearchInput): Promise<unknown> {
  try {
    return await client.workflow.execute(SEARCH_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: `weft-search-${crypto.randomUUID()}`,
      args: [input],
      workflowExecutionTimeout: SEARCH_TIMEOUT,
    });
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = applicationCause(err);
    if (cause?.type === "CollectionNotFound") throw new ApiError("NOT_FOUND", "collection not found");
    if (cause?.type === "EmbeddingModelMismatch") throw new ApiError("CONFLICT", cause.message);
    throw new ApiError("SERVICE_UNAVAILABLE", "the search did not complete on the GPU workers", {
      reason: cause?.message ?? err.message,
    });
  }
}
