/** Versions a workflow's runs executed: each an immutable snapshot with its content hash. */
import { createRoute, z } from "@hono/zod-openapi";
import { graphHash } from "../../core/snapshot.ts";
import { snapshotGraph } from "../../db/runs.ts";
import { notFound } from "../errors.ts";
import { type AppRouteHandler, bearerSecurity, createRouter, errorResponses, jsonResponse, uuid } from "../openapi.ts";
import { loadGraph } from "./store.ts";
import { getVersion, listVersions } from "./version-store.ts";

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

const list: AppRouteHandler<typeof listVersionsRoute> = async (c) => {
  const { sql } = c.get("services");
  const workflow = c.get("workflow");
  const [items, graph] = await Promise.all([listVersions(sql, workflow.id), loadGraph(sql, workflow.id)]);
  const { nodes, edges } = snapshotGraph(graph.nodes, graph.edges);
  const hash = await graphHash(nodes, edges);
  return c.json({ current: { version: workflow.version, hash }, items }, 200);
};

const get: AppRouteHandler<typeof getVersionRoute> = async (c) => {
  const row = await getVersion(c.get("services").sql, c.get("workflow").id, c.req.valid("param").version);
  if (!row) throw notFound("version");
  return c.json(row, 200);
};

export function versionRoutes() {
  return createRouter().openapi(listVersionsRoute, list).openapi(getVersionRoute, get);
}
