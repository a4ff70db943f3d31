/** Secret handlers: encrypt on write with the master key; never decrypt in the API. */
import { type MasterKeys, sealSecret } from "../../core/secrets-crypto.ts";
import type { ApiConfig } from "../config.ts";
import { ApiError, notFound } from "../errors.ts";
import { createRouter } from "../openapi.ts";
import { loadSecretKeys } from "./keys.ts";
import { createSecretRoute, deleteSecretRoute, listSecretsRoute, updateSecretRoute } from "./routes.ts";

const COLUMNS = "name, created_at, updated_at";

async function keysOrUnavailable(config: ApiConfig): Promise<MasterKeys> {
  const keys = await loadSecretKeys(config);
  if (!keys) throw new ApiError("SERVICE_UNAVAILABLE", "secrets are not configured on this server (WEFT_SECRETS_KEY)");
  return keys;
}

export function secretRoutes() {
  const app = createRouter();

  app.openapi(listSecretsRoute, async (c) => {
    const { sql } = c.get("services");
    const items = await sql`SELECT ${sql.unsafe(COLUMNS)} FROM secrets WHERE owner_id = ${
      c.get("user").id
    } ORDER BY name`;
    return c.json({ items: [...items] } as never, 200);
  });

  app.openapi(createSecretRoute, async (c) => {
    const { sql, config } = c.get("services");
    const { name, value } = c.req.valid("json");
    const owner = c.get("user").id;
    const sealed = await sealSecret(await keysOrUnavailable(config), owner, name, value);
    const [row] = await sql`
      INSERT INTO secrets (owner_id, name, key_id, iv, ciphertext)
      VALUES (${owner}, ${name}, ${sealed.key_id}, ${sealed.iv}, ${sealed.ciphertext})
      ON CONFLICT (owner_id, name) DO NOTHING RETURNING ${sql.unsafe(COLUMNS)}`;
    if (!row) {
      throw new ApiError("CONFLICT", `a secret named "${name}" already exists; PUT /api/secrets/${name} replaces it`);
    }
    return c.json(row as never, 201);
  });

  app.openapi(updateSecretRoute, async (c) => {
    const { sql, config } = c.get("services");
    const { name } = c.req.valid("param");
    const { value } = c.req.valid("json");
    const owner = c.get("user").id;
    const sealed = await sealSecret(await keysOrUnavailable(config), owner, name, value);
    const [row] = await sql`
      UPDATE secrets SET key_id = ${sealed.key_id}, iv = ${sealed.iv}, ciphertext = ${sealed.ciphertext}, updated_at = now()
      WHERE owner_id = ${owner} AND name = ${name} RETURNING ${sql.unsafe(COLUMNS)}`;
    if (!row) throw notFound("secret");
    return c.json(row as never, 200);
  });

  app.openapi(deleteSecretRoute, async (c) => {
    const { sql } = c.get("services");
    const { name } = c.req.valid("param");
    const rows = await sql`DELETE FROM secrets WHERE owner_id = ${c.get("user").id} AND name = ${name} RETURNING id`;
    if (!rows.length) throw notFound("secret");
    return c.body(null, 204);
  });

  return app;
}
