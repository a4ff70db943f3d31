/** The vector_collections, vector_ingestions and vector_documents tables' SQL as the API uses it. */
import type { Sql } from "../../db/client.ts";
import { notFound } from "../errors.ts";

const COLLECTION_COLUMNS = "id, name, description, document_count, embedding_model, dimension, created_at";
const INGESTION_COLUMNS = "id, collection_id, status, total, embedded, error, created_at, started_at, finished_at";

export interface CollectionRow {
  id: string;
  name: string;
  description: string | null;
  document_count: number;
  embedding_model: string | null;
  dimension: number | null;
  created_at: string;
}

export interface IngestionRow {
  id: string;
  collection_id: string;
  status: "pending" | "embedding" | "indexing" | "succeeded" | "failed";
  total: number;
  embedded: number;
  error: unknown;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

/** The workspace's collection; another workspace's is a 404 like a missing one. */
export async function getOwnedCollection(sql: Sql, id: string, workspaceId: string): Promise<CollectionRow> {
  const [row] = await sql<CollectionRow[]>`SELECT ${sql.unsafe(COLLECTION_COLUMNS)} FROM vector_collections
    WHERE id = ${id} AND workspace_id = ${workspaceId}`;
  if (!row) throw notFound("collection");
  return row;
}

export async function listCollections(sql: Sql, workspaceId: string): Promise<CollectionRow[]> {
  const rows = await sql<CollectionRow[]>`SELECT ${sql.unsafe(COLLECTION_COLUMNS)} FROM vector_collections
    WHERE workspace_id = ${workspaceId} ORDER BY created_at, id`;
  return [...rows];
}

/** The new collection, or undefined when the workspace has one by that name; `createdBy` is null for an API key. */
export async function insertCollection(
  sql: Sql,
  workspace: { id: string; createdBy: string | null },
  body: { name: string; description?: string },
): Promise<CollectionRow | undefined> {
  const [row] = await sql<CollectionRow[]>`INSERT INTO vector_collections (workspace_id, owner_id, name, description)
    VALUES (${workspace.id}, ${workspace.createdBy}, ${body.name}, ${body.description ?? null})
    ON CONFLICT (workspace_id, name) DO NOTHING
    RETURNING ${sql.unsafe(COLLECTION_COLUMNS)}`;
  return row;
}

/** False when the workspace has no such collection. Documents and ingestions go with it. */
export async function deleteCollection(sql: Sql, id: string, workspaceId: string): Promise<boolean> {
  const rows = await sql`DELETE FROM vector_collections WHERE id = ${id} AND workspace_id = ${workspaceId}
    RETURNING id`;
  return rows.length > 0;
}

/** Records a pending ingestion with its documents, in one transaction. */
export async function insertIngestion(
  sql: Sql,
  collectionId: string,
  ingestionId: string,
  documents: { text: string; metadata?: Record<string, unknown> }[],
): Promise<void> {
  const texts = documents.map((d) => d.text);
  const metadata = documents.map((d) => JSON.stringify(d.metadata ?? {}));
  await sql.begin(async (tx) => {
    await tx`INSERT INTO vector_ingestions (id, collection_id, total)
      VALUES (${ingestionId}, ${collectionId}, ${texts.length})`;
    await tx`INSERT INTO vector_documents (collection_id, ingestion_id, ordinal, text, metadata)
      SELECT ${collectionId}, ${ingestionId}, t.ord - 1, t.text, t.meta::jsonb
      FROM unnest(${texts}::text[], ${metadata}::text[]) WITH ORDINALITY AS t (text, meta, ord)`;
  });
}

export async function setIngestionWorkflow(sql: Sql, ingestionId: string, workflowId: string): Promise<void> {
  await sql`UPDATE vector_ingestions SET temporal_workflow_id = ${workflowId} WHERE id = ${ingestionId}`;
}

export async function deleteIngestion(sql: Sql, ingestionId: string): Promise<void> {
  await sql`DELETE FROM vector_ingestions WHERE id = ${ingestionId}`;
}

export async function getIngestion(sql: Sql, collectionId: string, id: string): Promise<IngestionRow | undefined> {
  const [row] = await sql<IngestionRow[]>`SELECT ${sql.unsafe(INGESTION_COLUMNS)} FROM vector_ingestions
    WHERE id = ${id} AND collection_id = ${collectionId}`;
  return row;
}
