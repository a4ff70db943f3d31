/** Versions a workflow's runs executed: each an immutable snapshot with its content hash. */
import { createRoute, z } from "@hono/zod-openapi";
import { graphHash } from "../../core/snapshot.ts";
import { notFound } from "../errors.ts";
import { bearerSecurity, errorResponses, jsonResponse, uuid } from "../openapi.ts";
import { createRouter } from "../openapi.ts";
import { snapshotGraph } from "../../db/runs.ts";
import { getOwnedWorkflow, loadGraph } from "./store.ts";

const VersionSchema = z.object({
  version: z.number().int(),
  hash: z.string(),
  created_at: z.string(),
  run_count: z.number().int(),
}).openapi("WorkflowVersion");

const Params = z.object({ id: uuid.openapi({ param: { name: "id", in: "path" } }) });
const VersionParams = Params.extend({
  version: z.coerce.number().int().min(1).openapi({ param: { name: "version", in: "path" } }),
});

const listVersionsRoute = createRoute({
  method: "get",
  path: "/api/workflows/{id}/versions",
  tags: ["workflows"],
  security: bearerSecurity,
  summary: "Versions that runs executed, newest first, and the current version's hash",
  request: { params: Params },
  responses: {
    200: jsonResponse(
      "Versions",
      z.object({ current: z.object({ version: z.number().int(), hash: z.string() }), items: z.array(VersionSchema) }),
    ),
    ...errorResponses,
  },
});

const getVersionRoute = createRoute({
  method: "get",
  path: "/api/workflows/{id}/versions/{version}",
  tags: ["workflows"],
  security: bearerSecurity,
  summary: "One executed version's snapshot (nodes and edges exactly as its runs saw them)",
  request: { params: VersionParams },
  responses: { 200: jsonResponse("The version", VersionSchema.extend({ snapshot: z.unknown() })), ...errorResponses },
});

export function versionRoutes() {
  const app = createRouter();

  app.openapi(listVersionsRoute, async (c) => {
    const { sql } = c.get("services");
    const { id } = c.req.valid("param");
    const workflow = await getOwnedWorkflow(sql, id, c.get("user").id);
    const [items, graph] = await Promise.all([
      sql`SELECT v.version, v.hash, v.created_at,
            (SELECT count(*)::int FROM workflow_runs r WHERE r.workflow_id = v.workflow_id AND r.workflow_version = v.version) AS run_count
          FROM workflow_versions v WHERE v.workflow_id = ${id} ORDER BY v.version DESC`,
      loadGraph(sql, id),
    ]);
    const { nodes, edges } = snapshotGraph(graph.nodes, graph.edges);
    const hash = await graphHash(nodes, edges);
    return c.json({ current: { version: workflow.version as number, hash }, items: [...items] } as never, 200);
  });

  app.openapi(getVersionRoute, async (c) => {
    const { sql } = c.get("services");
    const { id, version } = c.req.valid("param");
    await getOwnedWorkflow(sql, id, c.get("user").id);
    const [row] = await sql`
      SELECT v.version, v.hash, v.created_at, v.snapshot,
        (SELECT count(*)::int FROM workflow_runs r WHERE r.workflow_id = v.workflow_id AND r.workflow_version = v.version) AS run_count
      FROM workflow_versions v WHERE v.workflow_id = ${id} AND v.version = ${version}`;
    if (!row) throw notFound("version");
    return c.json(row as never, 200);
  });

  return app;
}
