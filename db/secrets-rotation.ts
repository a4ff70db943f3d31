/** Master key rotation: re-encrypts every secret not yet sealed with the current key (bound to its workspace). */
import { type MasterKeys, openSecret, sealSecret } from "../core/secrets-crypto.ts";
import type { Sql } from "./client.ts";

export async function rotateSecrets(sql: Sql, keys: MasterKeys): Promise<number> {
  const rows =
    await sql`SELECT id, workspace_id, name, key_id, iv, ciphertext FROM secrets WHERE key_id <> ${keys.current.id}`;
  for (const r of rows) {
    const value = await openSecret(keys, r.workspace_id as string, r.name as string, {
      key_id: r.key_id as string,
      iv: r.iv as Uint8Array,
      ciphertext: r.ciphertext as Uint8Array,
    });
    const sealed = await sealSecret(keys, r.workspace_id as string, r.name as string, value);
    await sql`UPDATE secrets SET key_id = ${sealed.key_id}, iv = ${sealed.iv}, ciphertext = ${sealed.ciphertext}
              WHERE id = ${r.id as string} AND key_id = ${r.key_id as string}`;
  }
  return rows.length;
}
