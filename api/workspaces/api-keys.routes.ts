/** API key schemas and routes: a key is shown once, at creation; lists show its prefix and when it was last used. */
import { createRoute, z } from "@hono/zod-openapi";
import { bearerSecurity, errorResponses, ErrorSchema, jsonBody, jsonResponse, uuid } from "../openapi.ts";
import { RoleSchema, WorkspaceParams } from "./workspaces.routes.ts";

export const ApiKeySchema = z.object({
  id: z.string().uuid(),
  name: z.string(),
  role: RoleSchema,
  prefix: z.string(),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
}).openapi("ApiKey");

export const NewApiKeySchema = ApiKeySchema.omit({ last_used_at: true }).extend({
  key: z.string().openapi({ description: "The key itself (`weft_…`): shown this once, stored only as a hash" }),
}).openapi("NewApiKey");

export const CreateApiKeyBody = z.object({
  name: z.string().trim().min(1).max(200),
  role: RoleSchema,
  expires_at: z.iso.datetime({ offset: true }).optional(),
}).strict().openapi("CreateApiKeyRequest");

const KeyParams = WorkspaceParams.extend({ key_id: uuid.openapi({ param: { name: "key_id", in: "path" } }) });
const tags = ["workspaces"];
const security = bearerSecurity;
const forbidden = {
  403: {
    description: "FORBIDDEN: not an admin, or a role above the caller's",
    content: { "application/json": { schema: ErrorSchema } },
  },
};

export const listApiKeysRoute = createRoute({
  method: "get",
  path: "/api/workspaces/{id}/api-keys",
  tags,
  security,
  summary: "The workspace's API keys that are not revoked (never the keys themselves)",
  request: { params: WorkspaceParams },
  responses: {
    200: jsonResponse("API keys", z.object({ items: z.array(ApiKeySchema) })),
    ...errorResponses,
    ...forbidden,
  },
});

export const createApiKeyRoute = createRoute({
  method: "post",
  path: "/api/workspaces/{id}/api-keys",
  tags,
  security,
  summary: "Create an API key for a service (admin); its role is at most yours. It outlives your membership " +
    "until it is revoked or expires",
  request: { params: WorkspaceParams, ...jsonBody(CreateApiKeyBody) },
  responses: { 201: jsonResponse("The key, shown once", NewApiKeySchema), ...errorResponses, ...forbidden },
});

export const revokeApiKeyRoute = createRoute({
  method: "delete",
  path: "/api/workspaces/{id}/api-keys/{key_id}",
  tags,
  security,
  summary: "Revoke an API key: its next request is 401, on every API process",
  request: { params: KeyParams },
  responses: { 204: { description: "Revoked" }, ...errorResponses, ...forbidden },
});
