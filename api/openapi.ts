/** The router factory every feature uses: request validation failures become one clear 400 (404 for ids). */
import { OpenAPIHono, type RouteConfig, type RouteHandler, z } from "@hono/zod-openapi";
import type { Context, Env, TypedResponse } from "hono";
import type { JSONParsed } from "hono/utils/types";
import { ApiError } from "./errors.ts";
import type { AppEnv } from "./env.ts";

/** A handler typed against its route: `c.json` must match the route's response schemas. */
export type AppRouteHandler<R extends RouteConfig, E extends Env = AppEnv> = RouteHandler<R, E>;

interface HookResult {
  success: boolean;
  target?: string;
  error?: { issues: { path: PropertyKey[]; message: string; code: string; keys?: string[] }[] };
}

export function issuesToDetails(target: string | undefined, issues: NonNullable<HookResult["error"]>["issues"]) {
  return issues.map((i) => {
    const path = [...i.path.map(String), ...(i.code === "unrecognized_keys" && i.keys ? [i.keys.join(", ")] : [])];
    const location = !target || target === "json" ? "body" : target;
    return { field: path.join(".") || location, location, message: i.message };
  });
}

export function createRouter<E extends AppEnv = AppEnv>() {
  return new OpenAPIHono<E>({
    defaultHook: (result: HookResult) => {
      if (result.success) return;
      if (result.target === "param") throw new ApiError("NOT_FOUND", "resource not found");
      const details = issuesToDetails(result.target, result.error?.issues ?? []);
      const fields = [...new Set(details.map((d) => d.field))].join(", ");
      throw new ApiError("VALIDATION_ERROR", `invalid request ${result.target ?? "body"}: ${fields}`, details);
    },
  });
}

export const ErrorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
    request_id: z.string(),
  }),
}).openapi("Error");

export const errorResponses = {
  400: { description: "Bad input", content: { "application/json": { schema: ErrorSchema } } },
  401: { description: "Missing or invalid token", content: { "application/json": { schema: ErrorSchema } } },
  404: {
    description: "Not found (or owned by another user)",
    content: { "application/json": { schema: ErrorSchema } },
  },
} as const;

/** A graph or a run's input over the engine's limit (saving nodes; execute, re-run, webhooks). */
export const graphTooLargeResponse = {
  413: {
    description:
      "GRAPH_TOO_LARGE: the run's encoded input (graph snapshot, input, reused outputs) is over the engine's limit",
    content: { "application/json": { schema: ErrorSchema } },
  },
} as const;

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  body: { content: { "application/json": { schema } }, required: true },
});

export const jsonResponse = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { "application/json": { schema } },
});

export const uuid = z.string().uuid();

export const PaginationQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 }),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export const bearerSecurity = [{ bearerAuth: [] }];

/**
 * A JSON body serialized earlier (a cached read), answered as the route's typed 200: the text was made by
 * `JSON.stringify` of a value of type `T`, which the type parameter states.
 */
export function serializedJson<T>(c: Context, json: string): TypedResponse<JSONParsed<T>, 200, "json"> {
  const res = c.body(json, 200, { "content-type": "application/json" });
  return res as unknown as TypedResponse<JSONParsed<T>, 200, "json">;
}
