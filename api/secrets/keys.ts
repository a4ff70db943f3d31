/** The API's secrets master keys, imported once. */
import { loadMasterKeys, type MasterKeys } from "../../core/secrets-crypto.ts";
import type { ApiConfig } from "../config.ts";

let loaded: Promise<MasterKeys | null> | undefined;
let loadedFor: string | undefined;

export function loadSecretKeys(config: Pick<ApiConfig, "WEFT_SECRETS_KEY" | "WEFT_SECRETS_OLD_KEYS">) {
  const id = `${config.WEFT_SECRETS_KEY}|${config.WEFT_SECRETS_OLD_KEYS}`;
  if (!loaded || loadedFor !== id) {
    loadedFor = id;
    loaded = config.WEFT_SECRETS_KEY
      ? loadMasterKeys(config.WEFT_SECRETS_KEY, config.WEFT_SECRETS_OLD_KEYS)
      : Promise.resolve(null);
  }
  return loaded;
}
