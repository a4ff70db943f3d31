/**
 * Re-encrypts every secret under the new master key. Run with the new key as WEFT_SECRETS_KEY and the
 * old one(s) in WEFT_SECRETS_OLD_KEYS (the API and workers accept both meanwhile), then drop the old keys:
 *   WEFT_SECRETS_KEY=<new> WEFT_SECRETS_OLD_KEYS=<old> node --import tsx scripts/rotate-secrets-key.ts
 */
import { loadMasterKeys } from "../core/secrets-crypto.ts";
import { connect } from "../db/client.ts";
import { rotateSecrets } from "../db/secrets-rotation.ts";

if (!process.env.WEFT_SECRETS_KEY) {
  console.error("set WEFT_SECRETS_KEY (the new key) and WEFT_SECRETS_OLD_KEYS (the old ones)");
  process.exit(2);
}
const sql = connect(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/weft", { max: 1 });
const keys = await loadMasterKeys(process.env.WEFT_SECRETS_KEY, process.env.WEFT_SECRETS_OLD_KEYS ?? "");
console.log(`re-encrypted ${await rotateSecrets(sql, keys)} secret(s) under key ${keys.current.id}`);
await sql.end();
