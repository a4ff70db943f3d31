/** Run schemas and routes: execute, list, inspect. */
import { createRoute, z } from "@hono/zod-openapi";
import { RUN_STATUSES } from "../../core/contract.ts";
import {
  bearerSecurity,
  errorResponses,
  ErrorSchema,
  graphTooLargeResponse,
  jsonBody,
  jsonResponse,
  PaginationQuery,
  uuid,
} from "../openapi.ts";

const ErrorSchemaRef = () => ErrorSchema;

export { RUN_STATUSES };

export const TemporalRefSchema = z.object({
  workflow_id: z.string(),
  run_id: z.string().nullable(),
  ui_url: z.string(),
}).openapi("TemporalRef");

export const NodeExecutionSchema = z.object({
  node_id: z.string(),
  node_name: z.string(),
  type: z.string(),
  status: z.string(),
  attempt: z.number().int(),
  input: z.unknown().openapi({ description: "The rendered config" }),
  output: z.unknown(),
  error: z.unknown(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
  duration_ms: z.number().int().nullable(),
}).openapi("NodeExecution");

const runFields = {
  id: z.string().uuid(),
  workflow_id: z.string().uuid(),
  status: z.enum(RUN_STATUSES),
  trigger: z.enum(["manual", "webhook", "schedule", "retry"]),
  retry_of: z.string().uuid().nullable(),
  input: z.unknown(),
  output: z.unknown().openapi({ description: "Outputs of the sink nodes, keyed by node name" }),
  error: z.unknown(),
  version: z.number().int(),
  version_hash: z.string(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  temporal: TemporalRefSchema,
};

export const RunSummarySchema = z.object(runFields).openapi("RunSummary");
export const TokenUsageSchema = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
}).openapi("TokenUsage", { description: "LLM tokens used by the run's succeeded llm_call nodes" });

export const RunSchema = z.object({
  ...runFields,
  usage: TokenUsageSchema,
  node_executions: z.array(NodeExecutionSchema),
}).openapi("Run");

export const ExecuteBody = z.object({
  input: z.record(z.string(), z.unknown()).default({}),
}).strict().openapi("ExecuteRequest");

export const ExecuteResponse = z.object({
  run_id: z.string().uuid(),
  status: z.enum(RUN_STATUSES),
  version: z.number().int(),
  version_hash: z.string(),
  temporal: TemporalRefSchema,
}).openapi("ExecuteResponse");

const WorkflowParams = z.object({ id: uuid.openapi({ param: { name: "id", in: "path" } }) });
const RunParams = WorkflowParams.extend({ run_id: uuid.openapi({ param: { name: "run_id", in: "path" } }) });

const tags = ["runs"];
const security = bearerSecurity;

export const executeRoute = createRoute({
  method: "post",
  path: "/api/workflows/{id}/execute",
  tags,
  security,
  summary: "Start a durable run of the workflow's current version (202; poll the run)",
  request: {
    params: WorkflowParams,
    headers: z.object({
      "idempotency-key": z.string().optional().openapi({
        description: "Same key, same user, within 24 h: the same run is returned instead of a new one",
      }),
    }),
    ...jsonBody(ExecuteBody),
  },
  responses: {
    202: jsonResponse("The run was accepted", ExecuteResponse),
    ...errorResponses,
    ...graphTooLargeResponse,
  },
});

export const listRunsRoute = createRoute({
  method: "get",
  path: "/api/workflows/{id}/runs",
  tags,
  security,
  summary: "The workflow's runs, newest first",
  request: { params: WorkflowParams, query: PaginationQuery },
  responses: {
    200: jsonResponse(
      "A page of runs",
      z.object({
        items: z.array(RunSummarySchema),
        total: z.number().int(),
        limit: z.number().int(),
        offset: z.number().int(),
      }),
    ),
    ...errorResponses,
  },
});

export const GetRunQuery = z.object({
  wait: z.coerce.number().int().min(0).max(60).default(0).openapi({
    description: "Seconds to wait for an unfinished run to end before answering (0–60; 0 answers at once)",
  }),
});

export const getRunRoute = createRoute({
  method: "get",
  path: "/api/workflows/{id}/runs/{run_id}",
  tags,
  security,
  summary: "A run with every node execution",
  description: "With `wait`, an unfinished run is answered when it ends or after that many seconds, whichever " +
    "comes first: a client waits for the result without polling.",
  request: { params: RunParams, query: GetRunQuery },
  responses: { 200: jsonResponse("The run", RunSchema), ...errorResponses },
});

export const cancelRunRoute = createRoute({
  method: "post",
  path: "/api/workflows/{id}/runs/{run_id}/cancel",
  tags,
  security,
  summary: "Cancel a run: running nodes are cancelled and the run ends cancelled",
  request: { params: RunParams },
  responses: {
    202: jsonResponse("Cancellation requested", z.object({ run_id: z.string().uuid(), status: z.enum(RUN_STATUSES) })),
    409: jsonResponse("The run has already finished", ErrorSchemaRef()),
    ...errorResponses,
  },
});

export const RetryBody = z.object({
  version: z.enum(["pinned", "latest"]).default("pinned").openapi({
    description: "pinned (default): the failed run's own snapshot; latest: the workflow's current version",
  }),
}).strict().openapi("RetryRequest");

export const retryRunRoute = createRoute({
  method: "post",
  path: "/api/workflows/{id}/runs/{run_id}/retry",
  tags,
  security,
  summary: "Re-run a failed or cancelled run: reuse every successful output, execute only what failed or follows",
  request: { params: RunParams, body: { content: { "application/json": { schema: RetryBody } }, required: false } },
  responses: {
    202: jsonResponse(
      "The new run was accepted",
      ExecuteResponse.extend({ retry_of: z.string().uuid(), reused: z.array(z.string()) }),
    ),
    409: jsonResponse("The run has not failed", ErrorSchemaRef()),
    ...errorResponses,
    ...graphTooLargeResponse,
  },
});
