/** Workflow handlers: CRUD with soft delete, and graph validation. */
import { deleteWorkflowTriggers } from "../triggers/cleanup.ts";
import { validateWorkflow } from "../../core/workflow-validation.ts";
import { createRouter } from "../openapi.ts";
import {
  createWorkflowRoute,
  deleteWorkflowRoute,
  getWorkflowRoute,
  listWorkflowsRoute,
  updateWorkflowRoute,
  validateWorkflowRoute,
} from "./routes.ts";
import { EDGE_COLUMNS, getOwnedWorkflow, loadGraph, NODE_COLUMNS, WORKFLOW_COLUMNS } from "./store.ts";
import { notFound } from "../errors.ts";

export function workflowRoutes() {
  const app = createRouter();

  app.openapi(listWorkflowsRoute, async (c) => {
    const { sql } = c.get("services");
    const { limit, offset } = c.req.valid("query");
    const owner = c.get("user").id;
    const [items, [{ total }]] = await Promise.all([
      sql`SELECT ${sql.unsafe(WORKFLOW_COLUMNS)} FROM workflows
          WHERE owner_id = ${owner} AND deleted_at IS NULL
          ORDER BY created_at DESC, id DESC LIMIT ${limit} OFFSET ${offset}`,
      sql`SELECT count(*)::int AS total FROM workflows WHERE owner_id = ${owner} AND deleted_at IS NULL`,
    ]);
    return c.json({ items: [...items], total, limit, offset } as never, 200);
  });

  app.openapi(createWorkflowRoute, async (c) => {
    const { sql } = c.get("services");
    const body = c.req.valid("json");
    const [row] = await sql`
      INSERT INTO workflows (owner_id, name, description, tags, metadata, max_parallel, on_failure)
      VALUES (${c.get("user").id}, ${body.name}, ${body.description ?? null}, ${body.tags ?? []},
              ${sql.json((body.metadata ?? {}) as never)}, ${body.max_parallel ?? 16}, ${
      body.on_failure ?? "fail_fast"
    })
      RETURNING ${sql.unsafe(WORKFLOW_COLUMNS)}`;
    return c.json(row as never, 201);
  });

  app.openapi(getWorkflowRoute, async (c) => {
    const { sql, workflowCache } = c.get("services");
    const { id } = c.req.valid("param");
    const owner = c.get("user").id;
    const cached = workflowCache?.get(id);
    if (cached) {
      if (cached.ownerId !== owner) throw notFound("workflow");
      return c.body(cached.json, 200, { "content-type": "application/json" }) as never;
    }
    const readStarted = workflowCache?.readStarted() ?? 0;
    // One round trip: the workflow with its nodes and edges aggregated as JSON.
    const [row] = await sql`
      SELECT ${sql.unsafe(WORKFLOW_COLUMNS.split(", ").map((col) => `w.${col}`).join(", "))},
        coalesce((SELECT json_agg(n ORDER BY n.created_at, n.id) FROM
          (SELECT ${sql.unsafe(NODE_COLUMNS)} FROM nodes WHERE workflow_id = w.id) n), '[]') AS nodes,
        coalesce((SELECT json_agg(e ORDER BY e.created_at, e.id) FROM
          (SELECT ${sql.unsafe(EDGE_COLUMNS)} FROM edges WHERE workflow_id = w.id) e), '[]') AS edges
      FROM workflows w
      WHERE w.id = ${id} AND w.owner_id = ${owner} AND w.deleted_at IS NULL`;
    if (!row) throw notFound("workflow");
    const json = JSON.stringify(row);
    workflowCache?.set(id, owner, json, readStarted);
    return c.body(json, 200, { "content-type": "application/json" }) as never;
  });

  app.openapi(updateWorkflowRoute, async (c) => {
    const { sql, workflowCache } = c.get("services");
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    await getOwnedWorkflow(sql, id, c.get("user").id);
    const changes: Record<string, unknown> = { ...body };
    if (body.metadata) changes.metadata = sql.json(body.metadata as never);
    const columns = Object.keys(changes);
    const [row] = columns.length
      ? await sql`UPDATE workflows SET ${sql(changes, columns)}, version = version + 1, updated_at = now()
                  WHERE id = ${id} RETURNING ${sql.unsafe(WORKFLOW_COLUMNS)}`
      : await sql`UPDATE workflows SET version = version + 1, updated_at = now()
                  WHERE id = ${id} RETURNING ${sql.unsafe(WORKFLOW_COLUMNS)}`;
    workflowCache?.invalidate(id);
    return c.json(row as never, 200);
  });

  app.openapi(deleteWorkflowRoute, async (c) => {
    const { sql } = c.get("services");
    const { id } = c.req.valid("param");
    await getOwnedWorkflow(sql, id, c.get("user").id);
    await deleteWorkflowTriggers(c.get("services"), c.get("logger"), id);
    await sql`UPDATE workflows SET deleted_at = now(), updated_at = now() WHERE id = ${id}`;
    c.get("services").workflowCache?.invalidate(id);
    return c.body(null, 204);
  });

  app.openapi(validateWorkflowRoute, async (c) => {
    const { sql } = c.get("services");
    const { id } = c.req.valid("param");
    await getOwnedWorkflow(sql, id, c.get("user").id);
    const { nodes, edges } = await loadGraph(sql, id);
    return c.json(validateWorkflow(nodes as never, edges as never), 200);
  });

  return app;
}
