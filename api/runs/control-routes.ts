/** Routes of the control-flow nodes (core/control-nodes.ts): events sent to a run, and a map node's items. */
import { createRoute, z } from "@hono/zod-openapi";
import { EVENT_NAME_PATTERN } from "../../core/control-nodes.ts";
import { MAP_ITEM_STATUSES } from "../../db/map-items.ts";
import { bearerSecurity, errorResponses, ErrorSchema, jsonBody, jsonResponse } from "../openapi.ts";
import { ApproveParams, RunParams } from "./schemas.ts";

const tags = ["runs"];
const security = bearerSecurity;

// The event name is checked by the handler: a bad one is the caller's mistake to be told (400), not a 404.
export const SignalParams = RunParams.extend({
  event: z.string().openapi({
    param: { name: "event", in: "path" },
    description: `Matches ${EVENT_NAME_PATTERN.source}`,
  }),
});

export const SignalBody = z.object({
  data: z.unknown().optional().openapi({ description: "The event's data: the wait_for_event node's output.data" }),
}).strict().openapi("SignalRequest");

export const signalRoute = createRoute({
  method: "post",
  path: "/api/workflows/{id}/runs/{run_id}/signals/{event}",
  tags,
  security,
  summary: "Send an event to a run",
  description: "Events queue by name in arrival order until a wait_for_event node of that name takes the next " +
    "one; events sent before the node is reached wait for it.",
  request: { params: SignalParams, ...jsonBody(SignalBody) },
  responses: {
    202: jsonResponse(
      "Event delivered to the run",
      z.object({ run_id: z.string(), event: z.string(), received_at: z.string() }),
    ),
    409: jsonResponse("The run has already finished", ErrorSchema),
    ...errorResponses,
  },
});

export const MapItemsQuery = z.object({
  status: z.enum(MAP_ITEM_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().regex(/^\d+$/).optional().openapi({ description: "next_cursor of the previous page" }),
});

export const MapItemSchema = z.object({
  index: z.number().int(),
  status: z.enum(MAP_ITEM_STATUSES),
  attempts: z.number().int(),
  output: z.unknown(),
  error: z.unknown(),
  child_run_id: z.string().nullable().openapi({ description: "A map over a workflow: the item's run" }),
}).openapi("MapItem");

export const mapItemsRoute = createRoute({
  method: "get",
  path: "/api/workflows/{id}/runs/{run_id}/nodes/{node_name}/items",
  tags,
  security,
  summary: "A map node's items: status, attempts, output and error of each, in input order",
  request: { params: ApproveParams, query: MapItemsQuery },
  responses: {
    200: jsonResponse(
      "One page of items",
      z.object({ items: z.array(MapItemSchema), next_cursor: z.string().nullable() }),
    ),
    ...errorResponses,
  },
});
