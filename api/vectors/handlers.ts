/** Vector collection handlers: rows in PostgreSQL; embedding, indexing and search happen on the GPU queue. */
import { ApiError, engineUnavailable, notFound } from "../errors.ts";
import type { AppRouteHandler } from "../openapi.ts";
import { appendAudit } from "../../db/audit-log.ts";
import { audit, audited, auditRow } from "../workspaces/audit.ts";
import type * as routes from "./routes.ts";
import {
  deleteCollection,
  deleteIngestion,
  getIngestion,
  getOwnedCollection,
  insertCollection,
  insertIngestion,
  listCollections,
  setIngestionWorkflow,
} from "./store.ts";
import { searchOnGpu, startIngestion } from "./temporal.ts";

export const list: AppRouteHandler<typeof routes.listCollectionsRoute> = async (c) => {
  return c.json({ items: await listCollections(c.get("services").sql, c.get("workspace").id) }, 200);
};

export const create: AppRouteHandler<typeof routes.createCollectionRoute> = async (c) => {
  const body = c.req.valid("json");
  const actor = c.get("actor");
  const workspace = { id: c.get("workspace").id, createdBy: actor.type === "user" ? actor.id : null };
  const row = await audited(c, async (tx) => {
    const row = await insertCollection(tx, workspace, body);
    if (row) {
      await audit(tx, c, {
        action: "collection.created",
        resource: { type: "collection", id: row.id },
        details: { name: body.name },
      });
    }
    return row;
  });
  if (!row) {
    throw new ApiError("CONFLICT", `the workspace already has a collection named "${body.name}"`, { field: "name" });
  }
  return c.json(row, 201);
};

export const get: AppRouteHandler<typeof routes.getCollectionRoute> = async (c) => {
  return c.json(await getOwnedCollection(c.get("services").sql, c.req.valid("param").id, c.get("workspace").id), 200);
};

export const remove: AppRouteHandler<typeof routes.deleteCollectionRoute> = async (c) => {
  // A running ingestion finds the collection gone and stops.
  const { id } = c.req.valid("param");
  const deleted = await audited(c, async (tx) => {
    const deleted = await deleteCollection(tx, id, c.get("workspace").id);
    if (deleted) await audit(tx, c, { action: "collection.deleted", resource: { type: "collection", id } });
    return deleted;
  });
  if (!deleted) throw notFound("collection");
  return c.body(null, 204);
};

export const addDocuments: AppRouteHandler<typeof routes.addDocumentsRoute> = async (c) => {
  const { sql, temporal, config } = c.get("services");
  const { id } = c.req.valid("param");
  const { documents } = c.req.valid("json");
  await getOwnedCollection(sql, id, c.get("workspace").id);
  const ingestionId = crypto.randomUUID();
  // insertIngestion is a transaction of its own (its documents in batches); the record follows it.
  await insertIngestion(sql, id, ingestionId, documents);
  await appendAudit(
    sql,
    auditRow(c, {
      action: "collection.documents_added",
      resource: { type: "collection", id },
      details: { ingestion_id: ingestionId, documents: documents.length },
    }),
  );
  try {
    const workflowId = await startIngestion(temporal, config.WEFT_GPU_TASK_QUEUE, { ingestionId, collectionId: id });
    await setIngestionWorkflow(sql, ingestionId, workflowId);
  } catch (err) {
    // Never leave an accepted-looking ingestion behind.
    await deleteIngestion(sql, ingestionId);
    c.get("logger").error("temporal start failed", { ingestion_id: ingestionId, error: (err as Error).message });
    throw engineUnavailable("the documents were not added");
  }
  c.get("logger").info("ingestion started", { ingestion_id: ingestionId, collection_id: id, total: documents.length });
  return c.json({ ingestion_id: ingestionId, status: "pending" as const, total: documents.length }, 202);
};

export const ingestion: AppRouteHandler<typeof routes.getIngestionRoute> = async (c) => {
  const { sql } = c.get("services");
  const { id, ingestion_id } = c.req.valid("param");
  await getOwnedCollection(sql, id, c.get("workspace").id);
  const row = await getIngestion(sql, id, ingestion_id);
  if (!row) throw notFound("ingestion");
  return c.json(row, 200);
};

export const search: AppRouteHandler<typeof routes.searchRoute> = async (c) => {
  const { sql, temporal, config } = c.get("services");
  const { id } = c.req.valid("param");
  const body = c.req.valid("json");
  // The search's tenant is the workspace (the registration and the worker check it: api/vectors/temporal.ts).
  const ownerId = c.get("workspace").id;
  const collection = await getOwnedCollection(sql, id, ownerId);
  if (collection.document_count === 0) return c.json({ results: [] }, 200);
  const found = await searchOnGpu(sql, temporal, config.WEFT_GPU_TASK_QUEUE, { collectionId: id, ownerId, ...body });
  return c.json(found, 200);
};
