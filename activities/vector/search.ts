/** Searching a collection: embed the query with the collection's model, search its index, attach the texts. */
import type { Sql } from "../../db/client.ts";
import { nonRetryable } from "../errors.ts";
import type { Embedder, ModelRegistry } from "../models/registry.ts";
import type { SearchRequest } from "../../core/contract.ts";
import type { CollectionRow, VectorStore } from "./store.ts";

export type { SearchRequest };

export interface SearchResult {
  id: string;
  text: string;
  score: number;
  metadata: Record<string, unknown>;
}

export interface VectorDeps {
  sql: Sql;
  models: ModelRegistry;
  store: VectorStore;
}

export type Collection = CollectionRow & { embedding_model: string | null; name: string; owner_id: string };

export const COLLECTION_COLUMNS = "id, owner_id, name, embedding_model, dimension, document_count";

/** The model that embeds this collection; a collection embedded with another model cannot be searched here. */
export async function embedderFor(models: ModelRegistry, collection: Collection): Promise<Embedder> {
  const embedder = await models.embedder();
  if (collection.embedding_model && collection.embedding_model !== embedder.name) {
    throw nonRetryable(
      "EmbeddingModelMismatch",
      `collection "${collection.name}" was embedded with ${collection.embedding_model}; this worker embeds with ${embedder.name}`,
    );
  }
  return embedder;
}

export async function searchDocuments(
  { sql, models, store }: VectorDeps,
  collection: Collection,
  request: SearchRequest,
): Promise<SearchResult[]> {
  if (collection.document_count === 0) return [];
  const embedder = await embedderFor(models, collection);
  const query = await embedder.embed([request.query]);
  const state = await store.current(collection);
  const hits = store.search(state, query, {
    topK: request.top_k,
    scoreThreshold: request.score_threshold,
    filter: request.filter,
  });
  if (hits.length === 0) return [];
  const rows = await sql`SELECT id, text FROM vector_documents WHERE id = ANY(${hits.map((h) => h.id)}::uuid[])`;
  const texts = new Map(rows.map((r) => [r.id as string, r.text as string]));
  return hits.map((h) => ({ id: h.id, text: texts.get(h.id) ?? "", score: h.score, metadata: h.metadata }));
}
