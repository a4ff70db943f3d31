/** Secrets for a node: decrypted only inside the activity, for the secrets its config refers to. */
import { loadMasterKeys, type MasterKeys, openSecret } from "../core/secrets-crypto.ts";
import type { Sql } from "../db/client.ts";
import { nonRetryable } from "./errors.ts";

/** The run owner's secrets named in `names`, decrypted. */
export type ResolveSecrets = (runId: string, names: string[]) => Promise<Record<string, string>>;

/** `keys`: the worker's parsed WEFT_SECRETS_KEY and WEFT_SECRETS_OLD_KEYS (core/secrets-crypto.ts's secretsEnv). */
export function createSecretResolver(
  sql: Sql,
  keys: { WEFT_SECRETS_KEY?: string; WEFT_SECRETS_OLD_KEYS?: string },
): ResolveSecrets {
  let loaded: Promise<MasterKeys | null> | undefined;
  const masterKeys = () =>
    loaded ??= keys.WEFT_SECRETS_KEY
      ? loadMasterKeys(keys.WEFT_SECRETS_KEY, keys.WEFT_SECRETS_OLD_KEYS ?? "")
      : Promise.resolve(null);

  /** The secrets of the run's workspace named in `names`, decrypted. */
  return async function resolveSecrets(runId: string, names: string[]): Promise<Record<string, string>> {
    if (!names.length) return {};
    const k = await masterKeys();
    if (!k) throw nonRetryable("SecretsUnavailable", "this worker has no secrets master key (WEFT_SECRETS_KEY)");
    const rows = await sql`
      SELECT s.name, s.key_id, s.iv, s.ciphertext, r.workspace_id FROM workflow_runs r
      JOIN secrets s ON s.workspace_id = r.workspace_id AND s.name IN ${sql(names)}
      WHERE r.id = ${runId} AND r.status IN ('pending', 'running', 'waiting')`;
    const found = new Map(rows.map((r) => [r.name as string, r]));
    const missing = names.filter((n) => !found.has(n));
    if (missing.length) {
      throw nonRetryable(
        "SecretNotFound",
        `no secret named ${missing.map((n) => `"${n}"`).join(", ")}`,
      );
    }
    const out: Record<string, string> = {};
    for (const [name, r] of found) {
      // Sealed for the workspace (core/secrets-crypto.ts binds it): a row moved to another workspace opens nowhere.
      out[name] = await openSecret(k, r.workspace_id as string, name, {
        key_id: r.key_id as string,
        iv: r.iv as Uint8Array,
        ciphertext: r.ciphertext as Uint8Array,
      });
    }
    return out;
  };
}
