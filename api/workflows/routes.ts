/** Workflow schemas and routes. */
import { createRoute, z } from "@hono/zod-openapi";
import {
  bearerSecurity,
  errorResponses,
  ErrorSchema,
  jsonBody,
  jsonResponse,
  PaginationQuery,
  uuid,
} from "../openapi.ts";
import { EdgeSchema } from "../edges/routes.ts";
import { NodeSchema } from "../nodes/routes.ts";

export const WorkflowSchema = z.object({
  id: z.string().uuid(),
  name: z.string(),
  description: z.string().nullable(),
  tags: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  max_parallel: z.number().int(),
  on_failure: z.enum(["fail_fast", "continue"]),
  error_workflow_id: z.string().uuid().nullable(),
  version: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("Workflow");

export const WorkflowDetailSchema = WorkflowSchema.extend({
  nodes: z.array(NodeSchema),
  edges: z.array(EdgeSchema),
}).openapi("WorkflowDetail");

const fields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(10_000).nullable(),
  tags: z.array(z.string().trim().min(1).max(64)).max(50),
  metadata: z.record(z.string(), z.unknown()),
  max_parallel: z.number().int().min(1).max(1000),
  on_failure: z.enum(["fail_fast", "continue"]).openapi({
    description: "fail_fast (default): a failing node cancels running ones; continue: independent branches finish",
  }),
  error_workflow_id: uuid.nullable().openapi({
    description: "A workflow of the same workspace (not this one) that runs when a run of this one fails, with input " +
      "{run_id, workflow_id, workflow_name, failed_node, error, input}",
  }),
};

export const CreateWorkflowBody = z.object({
  name: fields.name,
  description: fields.description.optional(),
  tags: fields.tags.optional(),
  metadata: fields.metadata.optional(),
  max_parallel: fields.max_parallel.optional(),
  on_failure: fields.on_failure.optional(),
  error_workflow_id: fields.error_workflow_id.optional(),
}).strict().openapi("CreateWorkflow");

export const UpdateWorkflowBody = CreateWorkflowBody.partial().strict().openapi("UpdateWorkflow");

export const WorkflowParams = z.object({ id: uuid.openapi({ param: { name: "id", in: "path" } }) });

export const WorkflowListSchema = z.object({
  items: z.array(WorkflowSchema),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
}).openapi("WorkflowList");

const tags = ["workflows"];
const security = bearerSecurity;

export const listWorkflowsRoute = createRoute({
  method: "get",
  path: "/api/workflows",
  tags,
  security,
  summary: "List your workflows, newest first",
  request: { query: PaginationQuery },
  responses: { 200: jsonResponse("A page of workflows", WorkflowListSchema), ...errorResponses },
});

export const createWorkflowRoute = createRoute({
  method: "post",
  path: "/api/workflows",
  tags,
  security,
  summary: "Create a workflow",
  request: jsonBody(CreateWorkflowBody),
  responses: { 201: jsonResponse("The workflow", WorkflowSchema), ...errorResponses },
});

export const getWorkflowRoute = createRoute({
  method: "get",
  path: "/api/workflows/{id}",
  tags,
  security,
  summary: "A workflow with its nodes and edges",
  request: { params: WorkflowParams },
  responses: { 200: jsonResponse("The workflow", WorkflowDetailSchema), ...errorResponses },
});

export const updateWorkflowRoute = createRoute({
  method: "put",
  path: "/api/workflows/{id}",
  tags,
  security,
  summary: "Update a workflow's settings (a new version)",
  request: { params: WorkflowParams, ...jsonBody(UpdateWorkflowBody) },
  responses: { 200: jsonResponse("The workflow", WorkflowSchema), ...errorResponses },
});

export const deleteWorkflowRoute = createRoute({
  method: "delete",
  path: "/api/workflows/{id}",
  tags,
  security,
  summary: "Delete a workflow (soft delete; its runs are kept, its schedules and webhook are deleted)",
  request: { params: WorkflowParams },
  responses: {
    204: { description: "Deleted" },
    ...errorResponses,
    503: {
      description: "The workflow engine is unavailable; the workflow was not deleted",
      content: { "application/json": { schema: ErrorSchema } },
    },
  },
});

export const GraphErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  node_ids: z.array(z.string()),
}).openapi("GraphError");

export const ValidationSchema = z.object({
  valid: z.boolean(),
  errors: z.array(GraphErrorSchema),
  order: z.array(z.string()),
  start_nodes: z.array(z.string()),
}).openapi("GraphValidation");

export const validateWorkflowRoute = createRoute({
  method: "get",
  path: "/api/workflows/{id}/validate",
  tags,
  security,
  summary: "Validate the graph: cycles, unreachable and disconnected nodes, node configs; topological order",
  request: { params: WorkflowParams },
  responses: { 200: jsonResponse("Validation result", ValidationSchema), ...errorResponses },
});
