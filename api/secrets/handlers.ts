/** Secret handlers: encrypt on write with the master key; never decrypt in the API. */
import { sealSecret } from "../../core/secrets-crypto.ts";
import { ApiError, notFound } from "../errors.ts";
import type { AppRouteHandler } from "../openapi.ts";
import type * as routes from "./routes.ts";
import { deleteSecret, insertSecret, listSecrets, replaceSecret } from "./store.ts";

export const list: AppRouteHandler<typeof routes.listSecretsRoute> = async (c) => {
  return c.json({ items: await listSecrets(c.get("services").sql, c.get("user").id) }, 200);
};

export const create: AppRouteHandler<typeof routes.createSecretRoute> = async (c) => {
  const { sql, secretKeys } = c.get("services");
  const { name, value } = c.req.valid("json");
  const owner = c.get("user").id;
  const sealed = await sealSecret(await secretKeys.require(), owner, name, value);
  const row = await insertSecret(sql, { ownerId: owner, name, sealed });
  if (!row) {
    throw new ApiError("CONFLICT", `a secret named "${name}" already exists; PUT /api/secrets/${name} replaces it`);
  }
  return c.json(row, 201);
};

export const update: AppRouteHandler<typeof routes.updateSecretRoute> = async (c) => {
  const { sql, secretKeys } = c.get("services");
  const { name } = c.req.valid("param");
  const { value } = c.req.valid("json");
  const owner = c.get("user").id;
  const sealed = await sealSecret(await secretKeys.require(), owner, name, value);
  const row = await replaceSecret(sql, { ownerId: owner, name, sealed });
  if (!row) throw notFound("secret");
  return c.json(row, 200);
};

export const remove: AppRouteHandler<typeof routes.deleteSecretRoute> = async (c) => {
  if (!(await deleteSecret(c.get("services").sql, c.get("user").id, c.req.valid("param").name))) {
    throw notFound("secret");
  }
  return c.body(null, 204);
};
