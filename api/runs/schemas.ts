/** Run schemas: what runs, node executions and their requests look like on the wire. */
import { z } from "@hono/zod-openapi";
import { RUN_STATUSES } from "../../core/contract.ts";
import { NODE_NAME_PATTERN } from "../../core/node-types.ts";
import { uuid } from "../openapi.ts";
import { RUN_TRIGGERS } from "../../db/runs.ts";

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
  execution: z.enum(["local", "activity"]).nullable().openapi({
    description: "How the attempt ran: `local` (a Temporal local activity inside the workflow task) or `activity` " +
      "(a regular activity, a node group or a map's items); null for what the run decided itself (skipped, " +
      "reused, approvals, control flow)",
  }),
  items: z.object({
    total: z.number().int(),
    succeeded: z.number().int(),
    failed: z.number().int(),
    running: z.number().int(),
  }).optional().openapi({ description: "A map node's items by status (each item: …/nodes/{node_name}/items)" }),
}).openapi("NodeExecution");

const runFields = {
  id: z.string().uuid(),
  workflow_id: z.string().uuid(),
  status: z.enum(RUN_STATUSES),
  trigger: z.enum(RUN_TRIGGERS),
  retry_of: z.string().uuid().nullable(),
  parent_run_id: z.string().uuid().nullable().openapi({
    description: "The run whose sub_workflow or map node started this one, or whose failure started this error run",
  }),
  parent_node: z.string().nullable().openapi({ description: "That run's node" }),
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

export const WorkflowParams = z.object({ id: uuid.openapi({ param: { name: "id", in: "path" } }) });
export const RunParams = WorkflowParams.extend({ run_id: uuid.openapi({ param: { name: "run_id", in: "path" } }) });

/** `?wait=N`: seconds (0–60) to hold the answer until the run ends; anything else is a 400. */
const waitSeconds = (description: string) =>
  z.string().regex(/^(?:[0-9]|[1-5][0-9]|60)$/, "whole seconds from 0 to 60").default("0").transform(Number)
    .openapi({ description, type: "integer", minimum: 0, maximum: 60 });

export const GetRunQuery = z.object({
  wait: waitSeconds("Seconds to wait for an unfinished run to end before answering (0–60; 0 answers at once)"),
});

export const IdempotencyHeaders = z.object({
  "idempotency-key": z.string().optional().openapi({
    description: "Same key, same caller, within 24 h: the same run is returned (and waited on) instead of a new one",
  }),
});

export const StartRunQuery = z.object({
  wait: waitSeconds(
    "Seconds (0–60) to wait for the run to end: answered 200 with the finished run (as GET …/runs/{run_id}, a " +
      "failed or cancelled run included) if it ends in time, else 202 as without `wait`",
  ),
});

export const RetryBody = z.object({
  version: z.enum(["pinned", "latest"]).default("pinned").openapi({
    description: "pinned (default): the failed run's own snapshot; latest: the workflow's current version",
  }),
}).strict().openapi("RetryRequest");

export const ApproveParams = z.object({
  id: uuid.openapi({ param: { name: "id", in: "path" } }),
  run_id: uuid.openapi({ param: { name: "run_id", in: "path" } }),
  node_name: z.string().regex(NODE_NAME_PATTERN).openapi({ param: { name: "node_name", in: "path" } }),
});

export const ApproveBody = z.object({
  approved: z.boolean(),
  data: z.unknown().optional().openapi({ description: "Anything the reviewer adds; the node's output carries it" }),
}).strict().openapi("ApproveRequest");

export const EventId = z.string().regex(/^\d{1,18}$/, "an event id (digits)");

/** An ISO 8601 instant PostgreSQL can hold: a real date in years 1–9999, any offset (normalised to UTC). */
const instant = (description: string) =>
  z.string().datetime({ offset: true }).refine((v) => {
    const year = new Date(v).getUTCFullYear();
    return year >= 1 && year <= 9999;
  }, "must be a date between the years 1 and 9999").transform((v) => new Date(v).toISOString())
    .optional().openapi({ description, type: "string", format: "date-time" });

export const SearchRunsQuery = z.object({
  workflow_id: uuid.optional(),
  status: z.enum(RUN_STATUSES).optional(),
  since: instant("Created at or after (ISO 8601)"),
  until: instant("Created before (ISO 8601)"),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional().openapi({ description: "`next_cursor` of the previous page" }),
}).strict();
