/** The secrets table's SQL as the API uses it: names and dates out, sealed values in (never decrypted here). */
import type { Sql } from "../../db/client.ts";
import type { Sealed as SealedSecret } from "../../core/secrets-crypto.ts";

const COLUMNS = "name, created_at, updated_at";

export interface SecretRow {
  name: string;
  created_at: string;
  updated_at: string;
}

export async function listSecrets(sql: Sql, workspaceId: string): Promise<SecretRow[]> {
  const rows = await sql<SecretRow[]>`SELECT ${sql.unsafe(COLUMNS)} FROM secrets
    WHERE workspace_id = ${workspaceId} ORDER BY name`;
  return [...rows];
}

/** A secret's value sealed for its workspace, by name; `createdBy` is the person (null for an API key). */
export interface WorkspaceSecret {
  workspaceId: string;
  createdBy?: string | null;
  name: string;
  sealed: SealedSecret;
}

/** The new secret, or undefined when the workspace has one by that name. */
export async function insertSecret(sql: Sql, secret: WorkspaceSecret): Promise<SecretRow | undefined> {
  const { workspaceId, createdBy = null, name, sealed } = secret;
  const [row] = await sql<SecretRow[]>`
    INSERT INTO secrets (workspace_id, owner_id, name, key_id, iv, ciphertext)
    VALUES (${workspaceId}, ${createdBy}, ${name}, ${sealed.key_id}, ${sealed.iv}, ${sealed.ciphertext})
    ON CONFLICT (workspace_id, name) DO NOTHING RETURNING ${sql.unsafe(COLUMNS)}`;
  return row;
}

/** The replaced secret, or undefined when there is none by that name. */
export async function replaceSecret(sql: Sql, secret: WorkspaceSecret): Promise<SecretRow | undefined> {
  const { workspaceId, name, sealed } = secret;
  const [row] = await sql<SecretRow[]>`
    UPDATE secrets SET key_id = ${sealed.key_id}, iv = ${sealed.iv}, ciphertext = ${sealed.ciphertext}, updated_at = now()
    WHERE workspace_id = ${workspaceId} AND name = ${name} RETURNING ${sql.unsafe(COLUMNS)}`;
  return row;
}

/** False when there is no secret by that name. */
export async function deleteSecret(sql: Sql, workspaceId: string, name: string): Promise<boolean> {
  const rows = await sql`DELETE FROM secrets WHERE workspace_id = ${workspaceId} AND name = ${name} RETURNING id`;
  return rows.length > 0;
}
