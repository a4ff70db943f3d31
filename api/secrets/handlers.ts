/**
 * Secret handlers: encrypt on write with the master key, sealed for the workspace (its id is the associated data,
 * so a row moved to another workspace opens nowhere); never decrypt in the API. The audit log names the secret,
 * never its value.
 */
import { sealSecret } from "../../core/secrets-crypto.ts";
import { ApiError, notFound } from "../errors.ts";
import type { AppRouteHandler } from "../openapi.ts";
import { audit, audited } from "../workspaces/audit.ts";
import type * as routes from "./routes.ts";
import { deleteSecret, insertSecret, listSecrets, replaceSecret } from "./store.ts";

export const list: AppRouteHandler<typeof routes.listSecretsRoute> = async (c) => {
  return c.json({ items: await listSecrets(c.get("services").sql, c.get("workspace").id) }, 200);
};

export const create: AppRouteHandler<typeof routes.createSecretRoute> = async (c) => {
  const { secretKeys } = c.get("services");
  const { name, value } = c.req.valid("json");
  const workspaceId = c.get("workspace").id;
  const actor = c.get("actor");
  const sealed = await sealSecret(await secretKeys.require(), workspaceId, name, value);
  const row = await audited(c, async (tx) => {
    const createdBy = actor.type === "user" ? actor.id : null;
    const row = await insertSecret(tx, { workspaceId, createdBy, name, sealed });
    if (row) await audit(tx, c, { action: "secret.created", resource: { type: "secret", id: name } });
    return row;
  });
  if (!row) {
    throw new ApiError("CONFLICT", `a secret named "${name}" already exists; PUT /api/secrets/${name} replaces it`);
  }
  return c.json(row, 201);
};

export const update: AppRouteHandler<typeof routes.updateSecretRoute> = async (c) => {
  const { secretKeys } = c.get("services");
  const { name } = c.req.valid("param");
  const { value } = c.req.valid("json");
  const workspaceId = c.get("workspace").id;
  const sealed = await sealSecret(await secretKeys.require(), workspaceId, name, value);
  const row = await audited(c, async (tx) => {
    const row = await replaceSecret(tx, { workspaceId, name, sealed });
    if (row) await audit(tx, c, { action: "secret.updated", resource: { type: "secret", id: name } });
    return row;
  });
  if (!row) throw notFound("secret");
  return c.json(row, 200);
};

export const remove: AppRouteHandler<typeof routes.deleteSecretRoute> = async (c) => {
  const { name } = c.req.valid("param");
  const deleted = await audited(c, async (tx) => {
    const deleted = await deleteSecret(tx, c.get("workspace").id, name);
    if (deleted) await audit(tx, c, { action: "secret.deleted", resource: { type: "secret", id: name } });
    return deleted;
  });
  if (!deleted) throw notFound("secret");
  return c.body(null, 204);
};
