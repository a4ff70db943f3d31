/**
 * Ingestion activities (workflows/ingest-documents.ts runs them on the GPU queue): embed an ingestion's
 * documents in batches, then commit them to the collection. Commits to one collection are serialised by its
 * row lock, so documents get positions in commit order and every worker's index catches up the same way.
 */
import { Context } from "@temporalio/activity";
import {
  type IngestionRef,
  type SearchCollectionInput,
  WORKFLOW_ID_PREFIX,
  WORKFLOW_TYPES,
  workflowIds,
} from "../../core/contract.ts";
import { nonRetryable } from "../errors.ts";
import { toBytes } from "./embeddings.ts";
import { currentWorkflow, refused } from "../runs/run-guard.ts";
import {
  type Collection,
  COLLECTION_COLUMNS,
  embedderFor,
  searchDocuments,
  type SearchRequest,
  type VectorDeps,
} from "./search.ts";

const HEARTBEAT_EVERY_MS = 1000;

/** Heartbeats while `fn` runs (model loading included), so a dead worker is noticed and cancellation arrives. */
async function heartbeating<T>(fn: (ctx: Context) => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await fn(ctx);
  } finally {
    clearInterval(timer);
  }
}

export function createVectorActivities(deps: VectorDeps, batchSize: number) {
  const { sql, models, store } = deps;

  const collectionOf = async (ingestionId: string) => {
    ingestionWorkflowOnly(ingestionId);
    const [row] = await sql`SELECT i.status, ${
      sql.unsafe(COLLECTION_COLUMNS.split(", ").map((c) => `c.${c}`).join(", "))
    }
      FROM vector_ingestions i JOIN vector_collections c ON c.id = i.collection_id WHERE i.id = ${ingestionId}`;
    return row as (Collection & { status: string }) | undefined;
  };

  return {
    /** Embeds the documents not yet embedded (a retried attempt resumes where the last one stopped). */
    embedIngestion({ ingestionId }: IngestionRef): Promise<{ embedded: number }> {
      return heartbeating(async (ctx) => {
        const collection = await collectionOf(ingestionId);
        if (!collection || collection.status === "succeeded") return { embedded: 0 };
        await sql`UPDATE vector_ingestions SET status = 'embedding', started_at = coalesce(started_at, now())
          WHERE id = ${ingestionId}`;
        const embedder = await embedderFor(models, collection);
        if (collection.dimension && collection.dimension !== embedder.dimension) {
          throw nonRetryable("EmbeddingModelMismatch", `collection has dimension ${collection.dimension}`);
        }
        const docs = await sql`SELECT id, text FROM vector_documents
          WHERE ingestion_id = ${ingestionId} AND embedding IS NULL ORDER BY ordinal`;
        const d = embedder.dimension;
        for (let i = 0; i < docs.length; i += batchSize) {
          if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
          const batch = docs.slice(i, i + batchSize);
          const vectors = await embedder.embed(batch.map((doc) => doc.text as string));
          const rows = batch.map((doc, j) => [doc.id as string, toBytes(vectors.subarray(j * d, (j + 1) * d))]);
          await sql`UPDATE vector_documents AS d SET embedding = v.e
            FROM (VALUES ${sql(rows as never)}) AS v (id, e) WHERE d.id = v.id::uuid`;
          await sql`UPDATE vector_ingestions SET embedded = embedded + ${batch.length} WHERE id = ${ingestionId}`;
        }
        return { embedded: docs.length };
      });
    },

    /** Gives the ingestion's documents their positions, then brings this worker's index file up to date. */
    commitIngestion({ ingestionId }: IngestionRef): Promise<{ document_count: number } | null> {
      return heartbeating(async () => {
        const collection = await collectionOf(ingestionId);
        if (!collection) return null;
        const embedder = await embedderFor(models, collection);
        await sql`UPDATE vector_ingestions SET status = 'indexing' WHERE id = ${ingestionId} AND status <> 'succeeded'`;
        const committed = await sql.begin(async (tx) => {
          // The row lock serialises commits to this collection (and waits out a concurrent delete).
          const [locked] = await tx`SELECT ${tx.unsafe(COLLECTION_COLUMNS)} FROM vector_collections
            WHERE id = ${collection.id} FOR UPDATE`;
          const [ingestion] = await tx`SELECT status, total FROM vector_ingestions WHERE id = ${ingestionId}`;
          if (!locked || !ingestion) return null;
          if (ingestion.status === "succeeded") return locked;
          const [{ missing }] = await tx`SELECT count(*)::int AS missing FROM vector_documents
            WHERE ingestion_id = ${ingestionId} AND embedding IS NULL`;
          if (missing > 0) throw new Error(`${missing} documents are not embedded yet`);
          await tx`UPDATE vector_documents SET position = ${locked.document_count as number} + ordinal
            WHERE ingestion_id = ${ingestionId}`;
          const [updated] = await tx`UPDATE vector_collections SET document_count = document_count + ${ingestion
            .total as number}, embedding_model = coalesce(embedding_model, ${embedder.name}),
            dimension = coalesce(dimension, ${embedder.dimension})
            WHERE id = ${collection.id} RETURNING ${tx.unsafe(COLLECTION_COLUMNS)}`;
          await tx`UPDATE vector_ingestions SET status = 'succeeded', finished_at = now() WHERE id = ${ingestionId}`;
          return updated;
        });
        if (!committed) return null;
        await store.current(committed as Collection);
        await store.persist(committed.id as string);
        return { document_count: committed.document_count as number };
      });
    },

    /** Records why an ingestion failed; its documents never entered the index and are removed. */
    async failIngestion({ ingestionId, message }: IngestionRef & { message: string }): Promise<void> {
      ingestionWorkflowOnly(ingestionId);
      await sql.begin(async (tx) => {
        await tx`UPDATE vector_ingestions SET status = 'failed', finished_at = now(), error = ${tx.json({ message })}
          WHERE id = ${ingestionId} AND status <> 'succeeded'`;
        await tx`DELETE FROM vector_documents WHERE ingestion_id = ${ingestionId} AND position IS NULL`;
      });
    },

    /** The API's search (through workflows/search-collection.ts): the tenant's collection only (`ownerId` names the
     * tenant, a workspace: the registration below must match it). */
    async searchCollection({ collectionId, ownerId, ...request }: SearchCollectionInput) {
      await registeredSearchOnly(sql, { collectionId, ownerId, request });
      const [collection] = await sql`SELECT ${sql.unsafe(COLLECTION_COLUMNS)} FROM vector_collections
        WHERE id = ${collectionId} AND workspace_id = ${ownerId}`;
      if (!collection) {
        // Deleted (or never this owner's): a deleted collection's index leaves this worker too.
        await store.drop(collectionId);
        throw nonRetryable("CollectionNotFound", "collection not found");
      }
      return { results: await searchDocuments(deps, collection as Collection, request) };
    },
  };
}

const SEARCH_ID = new RegExp(
  `^${WORKFLOW_ID_PREFIX.search}([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`,
);
/** A registration older than this is not served (the API's search times out after 30 s). */
const SEARCH_CLAIM_WINDOW = "2 minutes";

/**
 * The search activity acts only for a search the API registered (api/vectors/temporal.ts, migration 021): the
 * workflow id names the registration, whose tenant, collection and request must be what arrived, and the first
 * Temporal run that carries them claims it (its own retries pass; a second start under the same id after the first
 * closed does not). So someone who reaches Temporal can neither search another tenant's collection nor replay
 * the API's search. Nothing is read before this passes.
 */
async function registeredSearchOnly(
  sql: VectorDeps["sql"],
  arrived: { collectionId: string; ownerId: string; request: SearchRequest },
) {
  const wf = currentWorkflow();
  const id = SEARCH_ID.exec(wf.id)?.[1];
  if (wf.type !== WORKFLOW_TYPES.searchCollection || !id || !wf.runId) {
    throw refused(`workflow ${wf.type} ${wf.id} is not a search Weft started`);
  }
  // The arriving request as Temporal's JSON carried it (no undefined members); jsonb equality ignores key order.
  const request = JSON.parse(JSON.stringify(arrived.request ?? null));
  const [row] = await sql`UPDATE vector_search_requests SET temporal_run_id = ${wf.runId}
    WHERE id = ${id} AND (temporal_run_id IS NULL OR temporal_run_id = ${wf.runId})
      AND created_at > now() - ${SEARCH_CLAIM_WINDOW}::interval
      AND tenant_id::text = ${String(arrived.ownerId)} AND collection_id::text = ${String(arrived.collectionId)}
      AND request = ${sql.json(request)}
    RETURNING id`;
  // A forged start under a registered id claims nothing, so it cannot even spoil the API's own start.
  if (!row) throw refused(`workflow ${wf.id} does not carry a search the API registered, or it was served already`);
}

/** Ingestion activities act only for the workflow the API started for that ingestion (run-guard.ts). */
function ingestionWorkflowOnly(ingestionId: string) {
  const wf = currentWorkflow();
  if (wf.type !== WORKFLOW_TYPES.ingestDocuments || wf.id !== workflowIds.ingestion(ingestionId)) {
    throw refused(`workflow ${wf.type} ${wf.id} is not the ingestion ${ingestionId}`);
  }
}
