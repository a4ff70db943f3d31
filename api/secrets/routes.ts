/** Secret schemas and routes: values are write-only; listings show names and timestamps. */
import { createRoute, z } from "@hono/zod-openapi";
import { NODE_NAME_PATTERN } from "../../core/node-types.ts";
import { bearerSecurity, errorResponses, jsonBody, jsonResponse } from "../openapi.ts";

export const SecretSchema = z.object({
  name: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("Secret");

const name = z.string().regex(NODE_NAME_PATTERN, {
  message: "name must start with a letter or _ and hold only letters, digits and _ (usable as {{secrets.NAME}})",
});
const value = z.string().min(1).max(64 * 1024);

export const CreateSecretBody = z.object({ name, value }).strict().openapi("CreateSecret");
export const UpdateSecretBody = z.object({ value }).strict().openapi("UpdateSecret");
const NameParams = z.object({ name: name.openapi({ param: { name: "name", in: "path" } }) });

const tags = ["secrets"];
const security = bearerSecurity;

export const listSecretsRoute = createRoute({
  method: "get",
  path: "/api/secrets",
  tags,
  security,
  summary: "Your secrets' names (values are never returned)",
  responses: { 200: jsonResponse("Secrets", z.object({ items: z.array(SecretSchema) })), ...errorResponses },
});

export const createSecretRoute = createRoute({
  method: "post",
  path: "/api/secrets",
  tags,
  security,
  summary: "Store a secret, encrypted at rest; use it in node configs as {{secrets.NAME}}",
  request: jsonBody(CreateSecretBody),
  responses: { 201: jsonResponse("Stored", SecretSchema), ...errorResponses },
});

export const updateSecretRoute = createRoute({
  method: "put",
  path: "/api/secrets/{name}",
  tags,
  security,
  summary: "Replace a secret's value",
  request: { params: NameParams, ...jsonBody(UpdateSecretBody) },
  responses: { 200: jsonResponse("Stored", SecretSchema), ...errorResponses },
});

export const deleteSecretRoute = createRoute({
  method: "delete",
  path: "/api/secrets/{name}",
  tags,
  security,
  summary: "Delete a secret",
  request: { params: NameParams },
  responses: { 204: { description: "Deleted" }, ...errorResponses },
});
