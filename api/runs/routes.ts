/** Run routes: execute, list, inspect, wait, follow, approve, cancel, re-run, and search across workflows. */
import { createRoute, z } from "@hono/zod-openapi";
import {
  bearerSecurity,
  errorResponses,
  ErrorSchema,
  graphTooLargeResponse,
  jsonBody,
  jsonResponse,
  PaginationQuery,
} from "../openapi.ts";
import {
  ApproveBody,
  ApproveParams,
  EventId,
  ExecuteBody,
  ExecuteResponse,
  GetRunQuery,
  IdempotencyHeaders,
  RetryBody,
  RUN_STATUSES,
  RunParams,
  RunSchema,
  RunSummarySchema,
  SearchRunsQuery,
  StartRunQuery,
  WorkflowParams,
} from "./schemas.ts";

const ErrorSchemaRef = () => ErrorSchema;
const tags = ["runs"];
const security = bearerSecurity;

export const executeRoute = createRoute({
  method: "post",
  path: "/api/workflows/{id}/execute",
  tags,
  security,
  summary: "Start a durable run of the workflow's current version (202; with `wait`, 200 and the run once it ends)",
  description: "With `wait=N` the answer is held until the run ends, at most N seconds: one request per run. " +
    "A repeat with the same Idempotency-Key waits on the same run.",
  request: {
    params: WorkflowParams,
    query: StartRunQuery,
    headers: IdempotencyHeaders,
    ...jsonBody(ExecuteBody),
  },
  responses: {
    200: jsonResponse("The run ended within `wait` seconds: it as GET …/runs/{run_id} answers it", RunSchema),
    202: jsonResponse("The run was accepted (and, with `wait`, has not ended yet)", ExecuteResponse),
    409: jsonResponse(
      "The Idempotency-Key named another workflow, or its first request is still starting",
      ErrorSchema,
    ),
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

export const approveRoute = createRoute({
  method: "post",
  path: "/api/workflows/{id}/runs/{run_id}/nodes/{node_name}/approve",
  tags,
  security,
  summary: "Approve or reject a waiting approval node",
  request: { params: ApproveParams, ...jsonBody(ApproveBody) },
  responses: {
    200: jsonResponse(
      "Decision recorded",
      z.object({ run_id: z.string(), node_name: z.string(), approved: z.boolean() }),
    ),
    409: jsonResponse("The node is not waiting for a decision", ErrorSchema),
    ...errorResponses,
  },
});

export const runEventsRoute = createRoute({
  method: "get",
  path: "/api/workflows/{id}/runs/{run_id}/events",
  tags,
  security,
  summary: "The run's progress as Server-Sent Events, resumable with Last-Event-ID",
  description: "Events `run` {status, error, output?}, `node` {node_id, node_name, type, status, attempt, error?, " +
    "duration_ms?, output?} and any other type a worker appends (e.g. `token`, or `map_items` {node_name, items: [{index, status, error?}]} as a map's items end); each event's id is its " +
    "position, and a reconnecting client sends the last one it saw as `Last-Event-ID` (or `?last_event_id=`). " +
    "Outputs over 64 KB are left out (`output_omitted: true`). The stream ends after the event that makes the " +
    "run final; 204 when the run is final and nothing follows the given id.",
  request: {
    params: RunParams,
    query: z.object({ last_event_id: EventId.optional() }),
    headers: z.object({ "last-event-id": EventId.optional() }),
  },
  responses: {
    200: {
      description: "An event stream: `event: <type>`, `id: <event id>`, `data: <JSON>`",
      content: { "text/event-stream": { schema: z.string() } },
    },
    204: { description: "The run is final and has no events after the given id" },
    ...errorResponses,
  },
});

export const searchRunsRoute = createRoute({
  method: "get",
  path: "/api/runs",
  tags,
  security,
  summary: "The caller's runs across their workflows, newest first",
  request: { query: SearchRunsQuery },
  responses: {
    200: jsonResponse(
      "A page of runs",
      z.object({ items: z.array(RunSummarySchema), next_cursor: z.string().nullable() }),
    ),
    ...errorResponses,
  },
});
