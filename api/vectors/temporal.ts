/** How the API reaches the GPU queue for vectors: ingestion workflows and search, started by name. */
import { ApiError } from "../errors.ts";
import { type TemporalApi, type TemporalFailure, WorkflowFailedError } from "../temporal/client.ts";

export const INGEST_WORKFLOW_TYPE = "ingestDocuments";
export const SEARCH_WORKFLOW_TYPE = "searchCollection";

/** Long enough for a cold GPU worker to load the embedding model; a search that takes longer is answered 503. */
const SEARCH_TIMEOUT = "30s";

export const ingestionWorkflowId = (ingestionId: string) => `weft-ingest-${ingestionId}`;

export async function startIngestion(
  temporal: TemporalApi,
  taskQueue: string,
  input: { ingestionId: string; collectionId: string },
): Promise<string> {
  const workflowId = ingestionWorkflowId(input.ingestionId);
  await temporal.startWorkflow(INGEST_WORKFLOW_TYPE, { taskQueue, workflowId, args: [input] });
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

/** The innermost application failure of a failed workflow: what the activity threw. */
function applicationCause(failure: TemporalFailure | undefined): TemporalFailure | null {
  let found: TemporalFailure | null = null;
  for (let f = failure; f; f = f.cause) if (f.type) found = f;
  return found;
}

export async function searchOnGpu(temporal: TemporalApi, taskQueue: string, input: SearchInput): Promise<unknown> {
  try {
    return await temporal.executeWorkflow(SEARCH_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: `weft-search-${crypto.randomUUID()}`,
      args: [input],
      executionTimeout: SEARCH_TIMEOUT,
    });
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = applicationCause(err.failure);
    if (cause?.type === "CollectionNotFound") throw new ApiError("NOT_FOUND", "collection not found");
    if (cause?.type === "EmbeddingModelMismatch") throw new ApiError("CONFLICT", cause.message);
    throw new ApiError("SERVICE_UNAVAILABLE", "the search did not complete on the GPU workers", {
      reason: cause?.message ?? err.message,
    });
  }
}
