/** Edge schemas and routes. */
import { createRoute, z } from "@hono/zod-openapi";
import { bearerSecurity, errorResponses, jsonBody, jsonResponse, uuid } from "../openapi.ts";

export const EdgeSchema = z.object({
  id: z.string().uuid(),
  workflow_id: z.string().uuid(),
  source_node_id: z.string().uuid(),
  target_node_id: z.string().uuid(),
  condition: z.string().nullable(),
  created_at: z.string(),
}).openapi("Edge");

export const CreateEdgeBody = z.object({
  source_node_id: z.string().uuid(),
  target_node_id: z.string().uuid(),
  condition: z.string().trim().min(1).max(4000).nullable().optional().openapi({
    description: "A JSONata expression over the run context; the edge is taken when it is truthy",
  }),
}).strict().openapi("CreateEdge");

const WorkflowParams = z.object({ id: uuid.openapi({ param: { name: "id", in: "path" } }) });
const EdgeParams = WorkflowParams.extend({ edge_id: uuid.openapi({ param: { name: "edge_id", in: "path" } }) });

const tags = ["edges"];
const security = bearerSecurity;

export const listEdgesRoute = createRoute({
  method: "get",
  path: "/api/workflows/{id}/edges",
  tags,
  security,
  summary: "List a workflow's edges",
  request: { params: WorkflowParams },
  responses: { 200: jsonResponse("Edges", z.object({ items: z.array(EdgeSchema) })), ...errorResponses },
});

export const createEdgeRoute = createRoute({
  method: "post",
  path: "/api/workflows/{id}/edges",
  tags,
  security,
  summary: "Connect two nodes of the workflow",
  request: { params: WorkflowParams, ...jsonBody(CreateEdgeBody) },
  responses: { 201: jsonResponse("The edge", EdgeSchema), ...errorResponses },
});

export const getEdgeRoute = createRoute({
  method: "get",
  path: "/api/workflows/{id}/edges/{edge_id}",
  tags,
  security,
  summary: "An edge",
  request: { params: EdgeParams },
  responses: { 200: jsonResponse("The edge", EdgeSchema), ...errorResponses },
});

export const deleteEdgeRoute = createRoute({
  method: "delete",
  path: "/api/workflows/{id}/edges/{edge_id}",
  tags,
  security,
  summary: "Delete an edge",
  request: { params: EdgeParams },
  responses: { 204: { description: "Deleted" }, ...errorResponses },
});
