/** Trigger schemas and routes: a workflow's webhook (public endpoint + owner management) and its cron schedules. */
import { createRoute, z } from "@hono/zod-openapi";
import {
  bearerSecurity,
  errorResponses,
  ErrorSchema,
  graphTooLargeResponse,
  jsonBody,
  jsonResponse,
  uuid,
} from "../openapi.ts";
import { ExecuteResponse, IdempotencyHeaders, RunSchema, StartRunQuery } from "../runs/schemas.ts";
import { WorkflowParams } from "../workflows/routes.ts";
import { isTimeZone } from "./timezone.ts";

/** Tokens are 32 random bytes in unpadded base64url; anything else cannot be one, so it is a 404. */
export const HOOK_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export const WebhookInput = z.record(z.string(), z.unknown()).openapi("WebhookInput", {
  description: "Any JSON object; it becomes the run's input",
});

export const HookTokenSchema = z.object({
  token: z.string().openapi({ description: "Shown only now; only its SHA-256 is stored" }),
  url_path: z.string().openapi({ example: "/api/hooks/<token>" }),
  created_at: z.string(),
}).openapi("HookToken");

export const HookStatusSchema = z.object({
  enabled: z.boolean(),
  created_at: z.string().nullable().openapi({ description: "When the current token was made; null if never" }),
}).openapi("HookStatus");

export const CreateScheduleBody = z.object({
  cron: z.string().trim().min(1).max(200)
    .refine((s) => !/[=\n\r]/.test(s), "a cron expression (set the time zone with `timezone`, not CRON_TZ=)")
    .openapi({ example: "*/15 * * * *", description: "Cron expression, checked by Temporal" }),
  timezone: z.string().max(100).refine(isTimeZone, "an IANA time zone name, like Europe/Paris").default("UTC"),
  input: z.record(z.string(), z.unknown()).default({}),
  paused: z.boolean().default(false),
}).strict().openapi("CreateSchedule");

export const ScheduleSchema = z.object({
  id: z.string().uuid(),
  workflow_id: z.string().uuid(),
  cron: z.string(),
  timezone: z.string(),
  input: z.record(z.string(), z.unknown()),
  paused: z.boolean(),
  created_at: z.string(),
  temporal: z.object({ schedule_id: z.string(), ui_url: z.string() }),
}).openapi("Schedule");

const HookParams = z.object({
  token: z.string().regex(HOOK_TOKEN_PATTERN).openapi({ param: { name: "token", in: "path" } }),
});
const ScheduleParams = WorkflowParams.extend({
  schedule_id: uuid.openapi({ param: { name: "schedule_id", in: "path" } }),
});

const tags = ["triggers"];
const security = bearerSecurity;

export const webhookRoute = createRoute({
  method: "post",
  path: "/api/hooks/{token}",
  tags,
  security: [],
  summary: "Start a run of the token's workflow with the JSON body as input (no bearer token: the URL is the secret)",
  description: "With `wait=N` the answer is held until the run ends, at most N seconds (a synchronous webhook); " +
    "a repeat with the same Idempotency-Key gets (and waits on) the same run.",
  request: { params: HookParams, query: StartRunQuery, headers: IdempotencyHeaders, ...jsonBody(WebhookInput) },
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

export const rotateHookRoute = createRoute({
  method: "post",
  path: "/api/workflows/{id}/hook",
  tags,
  security,
  summary: "Create the workflow's webhook, or rotate its token (the old one stops working at once)",
  request: { params: WorkflowParams },
  responses: { 201: jsonResponse("The new token, shown this once", HookTokenSchema), ...errorResponses },
});

export const getHookRoute = createRoute({
  method: "get",
  path: "/api/workflows/{id}/hook",
  tags,
  security,
  summary: "Whether the workflow's webhook is enabled (never the token)",
  request: { params: WorkflowParams },
  responses: { 200: jsonResponse("The webhook's state", HookStatusSchema), ...errorResponses },
});

export const disableHookRoute = createRoute({
  method: "delete",
  path: "/api/workflows/{id}/hook",
  tags,
  security,
  summary: "Disable the workflow's webhook (its token stops working)",
  request: { params: WorkflowParams },
  responses: { 204: { description: "Disabled" }, ...errorResponses },
});

export const listSchedulesRoute = createRoute({
  method: "get",
  path: "/api/workflows/{id}/schedules",
  tags,
  security,
  summary: "The workflow's cron schedules, oldest first",
  request: { params: WorkflowParams },
  responses: {
    200: jsonResponse("The schedules", z.object({ items: z.array(ScheduleSchema) }).openapi("ScheduleList")),
    ...errorResponses,
  },
});

export const createScheduleRoute = createRoute({
  method: "post",
  path: "/api/workflows/{id}/schedules",
  tags,
  security,
  summary: "Run the workflow on a cron schedule (a Temporal Schedule; each firing runs the then-current version)",
  request: { params: WorkflowParams, ...jsonBody(CreateScheduleBody) },
  responses: { 201: jsonResponse("The schedule", ScheduleSchema), ...errorResponses },
});

export const deleteScheduleRoute = createRoute({
  method: "delete",
  path: "/api/workflows/{id}/schedules/{schedule_id}",
  tags,
  security,
  summary: "Delete a schedule (from Temporal too); runs it already started go on",
  request: { params: ScheduleParams },
  responses: { 204: { description: "Deleted" }, ...errorResponses },
});
