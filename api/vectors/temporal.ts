/** How the API reaches the GPU queue for vectors: ingestion workflows and search, started by name. */
import {
  type FailureType,
  type SearchCollectionInput,
  type SearchCollectionResult,
  WORKFLOW_TYPES,
  workflowArgs,
  workflowIds,
} from "../../core/contract.ts";
import { jsonValue, type Sql } from "../../db/client.ts";
import { ApiError } from "../errors.ts";
import { type TemporalApi, type TemporalFailure, WorkflowFailedError } from "../temporal/client.ts";

export const INGEST_WORKFLOW_TYPE = WORKFLOW_TYPES.ingestDocuments;
export const SEARCH_WORKFLOW_TYPE = WORKFLOW_TYPES.searchCollection;

/** Long enough for a cold GPU worker to load the embedding model; a search that takes longer is answered 503. */
const SEARCH_TIMEOUT = "30s";

/** A registered search older than this is gone; the worker refuses to start one older than its own bound. */
const STALE_SEARCH_REQUEST = "10 minutes";

export const ingestionWorkflowId = workflowIds.ingestion;

export async function startIngestion(
  temporal: TemporalApi,
  taskQueue: string,
  input: { ingestionId: string; collectionId: string },
): Promise<string> {
  const workflowId = ingestionWorkflowId(input.ingestionId);
  await temporal.startWorkflow(INGEST_WORKFLOW_TYPE, {
    taskQueue,
    workflowId,
    args: workflowArgs("ingestDocuments", input),
  });
  return workflowId;
}

export type SearchInput = SearchCollectionInput;

/** The innermost application failure of a failed workflow: what the activity threw. */
function applicationCause(failure: TemporalFailure | undefined): TemporalFailure | null {
  let found: TemporalFailure | null = null;
  for (let f = failure; f; f = f.cause) if (f.type) found = f;
  return found;
}

/**
 * Runs one search on the GPU workers. The search is registered first (vector_search_requests, migration 021):
 * the worker serves `weft-search-<id>` only for the tenant, collection and request registered under that id, so
 * a search started straight through Temporal is refused. The row goes once the search is answered.
 */
export async function searchOnGpu(
  sql: Sql,
  temporal: TemporalApi,
  taskQueue: string,
  input: SearchInput,
): Promise<SearchCollectionResult> {
  const { collectionId, ownerId, ...request } = input;
  const [{ id }] = await sql`INSERT INTO vector_search_requests (id, tenant_id, collection_id, request)
    VALUES (${crypto.randomUUID()}, ${ownerId}, ${collectionId}, ${sql.json(jsonValue(request))}) RETURNING id`;
  try {
    // The search workflow's result, as the GPU worker's searchCollection returns it.
    return await temporal.executeWorkflow(SEARCH_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: workflowIds.search(id),
      args: workflowArgs("searchCollection", input),
      executionTimeout: SEARCH_TIMEOUT,
    }) as SearchCollectionResult;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = applicationCause(err.failure);
    if (cause?.type === ("CollectionNotFound" satisfies FailureType)) {
      throw new ApiError("NOT_FOUND", "collection not found");
    }
    if (cause?.type === ("EmbeddingModelMismatch" satisfies FailureType)) throw new ApiError("CONFLICT", cause.message);
    throw new ApiError("SERVICE_UNAVAILABLE", "the search did not complete on the GPU workers", {
      reason: cause?.message ?? err.message,
    });
  } finally {
    // This search's row, and any an API process left behind when it died mid-search (far past the time-out).
    await sql`DELETE FROM vector_search_requests
      WHERE id = ${id} OR created_at < now() - ${STALE_SEARCH_REQUEST}::interval`.catch(() => {});
  }
}
