/**
 * Re-wraps every tenant's payload data key under the new payload master key; payloads in Temporal stay as they
 * are (they are sealed with the data keys). Run with the new key as WEFT_PAYLOAD_KEY and the old one(s) in
 * WEFT_PAYLOAD_OLD_KEYS (the API and workers accept both meanwhile), then drop the old keys, except where
 * histories from before per-tenant keys must still be read (those payloads are sealed with the master key):
 *   WEFT_PAYLOAD_KEY=<new> WEFT_PAYLOAD_OLD_KEYS=<old> node --import tsx scripts/rotate-payload-key.ts
 */
import { loadMasterKeys } from "../core/secrets-crypto.ts";
import { connect } from "../db/client.ts";
import { rewrapDataKeys } from "../db/payload-keys.ts";

if (!process.env.WEFT_PAYLOAD_KEY) {
  console.error("set WEFT_PAYLOAD_KEY (the new key) and WEFT_PAYLOAD_OLD_KEYS (the old ones)");
  process.exit(2);
}
const sql = connect(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/weft", { max: 1 });
const keys = await loadMasterKeys(process.env.WEFT_PAYLOAD_KEY, process.env.WEFT_PAYLOAD_OLD_KEYS ?? "");
console.log(`re-wrapped ${await rewrapDataKeys(sql, keys)} data key(s) under master key ${keys.current.id}`);
await sql.end();
