/** Node schemas and routes. */
import { createRoute, z } from "@hono/zod-openapi";
import { KNOWN_NODE_TYPES, NODE_NAME_PATTERN } from "../../core/node-types.ts";
import { bearerSecurity, errorResponses, graphTooLargeResponse, jsonBody, jsonResponse, uuid } from "../openapi.ts";

export const NodeSchema = z.object({
  id: z.string().uuid(),
  workflow_id: z.string().uuid(),
  name: z.string(),
  type: z.string(),
  config: z.record(z.string(), z.unknown()),
  position_x: z.number(),
  position_y: z.number(),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("Node");

const nodeFields = {
  name: z.string().regex(NODE_NAME_PATTERN, {
    message: "name must start with a letter or _ and hold only letters, digits and _ (at most 64)",
  }).openapi({ example: "fetch_user" }),
  type: z.string().min(1).max(64).openapi({
    example: "http_request",
    description: `One of: ${KNOWN_NODE_TYPES.join(", ")}`,
  }),
  config: z.record(z.string(), z.unknown()).openapi({
    example: { method: "GET", url: "https://example.com/{{input.id}}" },
    description: "The node type's settings. Every type also takes `timeout_ms`, `retry` and `durable_step` " +
      "(boolean): `transform` nodes, and `http_request`/`db_write` nodes whose `timeout_ms` is at most 10000, run " +
      "as Temporal local activities unless `durable_step` is true (docs/engine.md, Local activities).",
  }),
  position_x: z.number().finite(),
  position_y: z.number().finite(),
};

export const CreateNodeBody = z.object({
  name: nodeFields.name,
  type: nodeFields.type,
  config: nodeFields.config.default({}),
  position_x: nodeFields.position_x.default(0),
  position_y: nodeFields.position_y.default(0),
}).strict().openapi("CreateNode");

export const UpdateNodeBody = z.object({
  name: nodeFields.name.optional(),
  type: nodeFields.type.optional(),
  config: nodeFields.config.optional(),
  position_x: nodeFields.position_x.optional(),
  position_y: nodeFields.position_y.optional(),
}).strict().openapi("UpdateNode");

const WorkflowParams = z.object({ id: uuid.openapi({ param: { name: "id", in: "path" } }) });
const NodeParams = WorkflowParams.extend({ node_id: uuid.openapi({ param: { name: "node_id", in: "path" } }) });

const tags = ["nodes"];
const security = bearerSecurity;

export const listNodesRoute = createRoute({
  method: "get",
  path: "/api/workflows/{id}/nodes",
  tags,
  security,
  summary: "List a workflow's nodes",
  request: { params: WorkflowParams },
  responses: { 200: jsonResponse("Nodes", z.object({ items: z.array(NodeSchema) })), ...errorResponses },
});

export const createNodeRoute = createRoute({
  method: "post",
  path: "/api/workflows/{id}/nodes",
  tags,
  security,
  summary: "Add a node (config validated for its type)",
  request: { params: WorkflowParams, ...jsonBody(CreateNodeBody) },
  responses: { 201: jsonResponse("The node", NodeSchema), ...errorResponses, ...graphTooLargeResponse },
});

export const getNodeRoute = createRoute({
  method: "get",
  path: "/api/workflows/{id}/nodes/{node_id}",
  tags,
  security,
  summary: "A node",
  request: { params: NodeParams },
  responses: { 200: jsonResponse("The node", NodeSchema), ...errorResponses },
});

export const updateNodeRoute = createRoute({
  method: "put",
  path: "/api/workflows/{id}/nodes/{node_id}",
  tags,
  security,
  summary: "Update a node",
  request: { params: NodeParams, ...jsonBody(UpdateNodeBody) },
  responses: { 200: jsonResponse("The node", NodeSchema), ...errorResponses, ...graphTooLargeResponse },
});

export const deleteNodeRoute = createRoute({
  method: "delete",
  path: "/api/workflows/{id}/nodes/{node_id}",
  tags,
  security,
  summary: "Delete a node and its edges",
  request: { params: NodeParams },
  responses: { 204: { description: "Deleted" }, ...errorResponses },
});
