/** The API's secrets master keys, imported once per app (a service: api/env.ts). */
import { loadMasterKeys, type MasterKeys } from "../../core/secrets-crypto.ts";
import type { ApiConfig } from "../config.ts";
import { ApiError } from "../errors.ts";

export class SecretKeys {
  private loaded?: Promise<MasterKeys | null>;

  constructor(private readonly config: Pick<ApiConfig, "WEFT_SECRETS_KEY" | "WEFT_SECRETS_OLD_KEYS">) {}

  /** The keys, or null when the server has no WEFT_SECRETS_KEY. */
  get(): Promise<MasterKeys | null> {
    const { WEFT_SECRETS_KEY, WEFT_SECRETS_OLD_KEYS } = this.config;
    this.loaded ??= WEFT_SECRETS_KEY ? loadMasterKeys(WEFT_SECRETS_KEY, WEFT_SECRETS_OLD_KEYS) : Promise.resolve(null);
    return this.loaded;
  }

  /** The keys, or a 503 when secrets are not configured. */
  async require(): Promise<MasterKeys> {
    const keys = await this.get();
    if (!keys) {
      throw new ApiError("SERVICE_UNAVAILABLE", "secrets are not configured on this server (WEFT_SECRETS_KEY)");
    }
    return keys;
  }
}
