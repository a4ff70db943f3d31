/** Vector collection handlers: rows in PostgreSQL; embedding, indexing and search happen on the GPU queue. */
import type { Sql } from "../../db/client.ts";
import { ApiError, notFound } from "../errors.ts";
import { createRouter } from "../openapi.ts";
import type { Row } from "../workflows/store.ts";
import {
  addDocumentsRoute,
  createCollectionRoute,
  deleteCollectionRoute,
  getCollectionRoute,
  getIngestionRoute,
  listCollectionsRoute,
  searchRoute,
} from "./routes.ts";
import { searchOnGpu, startIngestion } from "./temporal.ts";

const COLLECTION_COLUMNS = "id, name, description, document_count, embedding_model, dimension, created_at";
const INGESTION_COLUMNS = "id, collection_id, status, total, embedded, error, created_at, started_at, finished_at";

async function getOwnedCollection(sql: Sql, id: string, ownerId: string): Promise<Row> {
  const [row] = await sql`SELECT ${sql.unsafe(COLLECTION_COLUMNS)} FROM vector_collections
    WHERE id = ${id} AND owner_id = ${ownerId}`;
  if (!row) throw notFound("collection");
  return row;
}

export function vectorRoutes() {
  const app = createRouter();

  app.openapi(listCollectionsRoute, async (c) => {
    const { sql } = c.get("services");
    const rows = await sql`SELECT ${sql.unsafe(COLLECTION_COLUMNS)} FROM vector_collections
      WHERE owner_id = ${c.get("user").id} ORDER BY created_at, id`;
    return c.json({ items: [...rows] } as never, 200);
  });

  app.openapi(createCollectionRoute, async (c) => {
    const { sql } = c.get("services");
    const { name, description } = c.req.valid("json");
    const [row] = await sql`INSERT INTO vector_collections (owner_id, name, description)
      VALUES (${c.get("user").id}, ${name}, ${description ?? null})
      ON CONFLICT (owner_id, name) DO NOTHING
      RETURNING ${sql.unsafe(COLLECTION_COLUMNS)}`;
    if (!row) throw new ApiError("CONFLICT", `you already have a collection named "${name}"`, { field: "name" });
    return c.json(row as never, 201);
  });

  app.openapi(getCollectionRoute, async (c) => {
    const { sql } = c.get("services");
    return c.json(await getOwnedCollection(sql, c.req.valid("param").id, c.get("user").id) as never, 200);
  });

  app.openapi(deleteCollectionRoute, async (c) => {
    const { sql } = c.get("services");
    const { id } = c.req.valid("param");
    // Documents and ingestions go with it; a running ingestion finds the collection gone and stops.
    const [row] = await sql`DELETE FROM vector_collections WHERE id = ${id} AND owner_id = ${c.get("user").id}
      RETURNING id`;
    if (!row) throw notFound("collection");
    return c.body(null, 204);
  });

  app.openapi(addDocumentsRoute, async (c) => {
    const services = c.get("services");
    const { sql, temporal, config } = services;
    const { id } = c.req.valid("param");
    const { documents } = c.req.valid("json");
    await getOwnedCollection(sql, id, c.get("user").id);
    const ingestionId = crypto.randomUUID();
    const texts = documents.map((d) => d.text);
    const metadata = documents.map((d) => JSON.stringify(d.metadata ?? {}));
    await sql.begin(async (tx) => {
      await tx`INSERT INTO vector_ingestions (id, collection_id, total) VALUES (${ingestionId}, ${id}, ${texts.length})`;
      await tx`INSERT INTO vector_documents (collection_id, ingestion_id, ordinal, text, metadata)
        SELECT ${id}, ${ingestionId}, t.ord - 1, t.text, t.meta::jsonb
        FROM unnest(${texts}::text[], ${metadata}::text[]) WITH ORDINALITY AS t (text, meta, ord)`;
    });
    try {
      const workflowId = await startIngestion(temporal, config.WEFT_GPU_TASK_QUEUE, { ingestionId, collectionId: id });
      await sql`UPDATE vector_ingestions SET temporal_workflow_id = ${workflowId} WHERE id = ${ingestionId}`;
    } catch (err) {
      // Never leave an accepted-looking ingestion behind.
      await sql`DELETE FROM vector_ingestions WHERE id = ${ingestionId}`;
      c.get("logger").error("temporal start failed", { ingestion_id: ingestionId, error: (err as Error).message });
      throw new ApiError("SERVICE_UNAVAILABLE", "the workflow engine is unavailable; the documents were not added");
    }
    c.get("logger").info("ingestion started", { ingestion_id: ingestionId, collection_id: id, total: texts.length });
    return c.json({ ingestion_id: ingestionId, status: "pending" as const, total: texts.length }, 202);
  });

  app.openapi(getIngestionRoute, async (c) => {
    const { sql } = c.get("services");
    const { id, ingestion_id } = c.req.valid("param");
    await getOwnedCollection(sql, id, c.get("user").id);
    const [row] = await sql`SELECT ${sql.unsafe(INGESTION_COLUMNS)} FROM vector_ingestions
      WHERE id = ${ingestion_id} AND collection_id = ${id}`;
    if (!row) throw notFound("ingestion");
    return c.json(row as never, 200);
  });

  app.openapi(searchRoute, async (c) => {
    const { sql, temporal, config } = c.get("services");
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const ownerId = c.get("user").id;
    const collection = await getOwnedCollection(sql, id, ownerId);
    if (collection.document_count === 0) return c.json({ results: [] }, 200);
    const found = await searchOnGpu(sql, temporal, config.WEFT_GPU_TASK_QUEUE, { collectionId: id, ownerId, ...body });
    return c.json(found as never, 200);
  });

  return app;
}
