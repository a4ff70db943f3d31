/**
 * What a request's access depends on, cached per process: an API key by its hash, and a user's role in a
 * workspace. Any change to a membership, a key or a workspace is announced on `weft_access_changed` at commit
 * (migration 030) and clears the cache on every API process, as workflow changes do for the workflow cache;
 * this process also clears it itself after its own changes. A read that began before a clear is not stored,
 * and nothing is served from the cache until the listener is connected, so a missed notification can only
 * matter within the TTL should the connection drop without the listener noticing.
 */
import type { Sql } from "../../db/client.ts";
import type { Logger } from "../logger.ts";
import type { Role } from "./roles.ts";

export const ACCESS_CHANGED_CHANNEL = "weft_access_changed";

export interface ApiKeyRecord {
  id: string;
  workspace_id: string;
  name: string;
  role: Role;
  /** ISO 8601, as the database client returns timestamps. */
  expires_at: string | null;
}

interface Entry<T> {
  value: T;
  storedAt: number;
}

export class AccessCache {
  private readonly keys = new Map<string, Entry<ApiKeyRecord>>();
  private readonly roles = new Map<string, Entry<Role | null>>();
  private generation = 0;
  private active = false;

  constructor(private readonly ttlMs = 30_000, private readonly maxEntries = 10_000) {}

  /** The unrevoked key with this hash (expired or not: the caller decides), or null. */
  apiKey(sql: Sql, hash: string): Promise<ApiKeyRecord | null> {
    return this.cached(this.keys, hash, async () => {
      const [row] = await sql`SELECT id, workspace_id, name, role, expires_at FROM api_keys
        WHERE key_hash = ${hash} AND revoked_at IS NULL`;
      return (row as ApiKeyRecord | undefined) ?? null;
    }, (v) => v !== null);
  }

  /** The user's role in the workspace, or null when they are not a member (or either does not exist). */
  role(sql: Sql, workspaceId: string, userId: string): Promise<Role | null> {
    return this.cached(this.roles, `${workspaceId}:${userId}`, async () => {
      const [row] = await sql`SELECT role FROM workspace_members
        WHERE workspace_id = ${workspaceId} AND user_id = ${userId}`;
      return (row?.role as Role | undefined) ?? null;
    });
  }

  clear() {
    this.generation++;
    this.keys.clear();
    this.roles.clear();
  }

  private async cached<T>(map: Map<string, Entry<T>>, key: string, load: () => Promise<T>, keep = (_: T) => true) {
    const hit = this.active ? map.get(key) : undefined;
    if (hit && Date.now() - hit.storedAt <= this.ttlMs) return hit.value;
    const generation = this.generation;
    const value = await load();
    if (this.active && generation === this.generation && keep(value)) {
      if (map.size >= this.maxEntries) map.delete(map.keys().next().value!);
      map.set(key, { value, storedAt: Date.now() });
    }
    return value;
  }

  /** Subscribes to access changes; the cache is cleared on every (re)connect of the listener. */
  async listen(sql: Sql, logger: Logger) {
    try {
      await sql.listen(ACCESS_CHANGED_CHANNEL, () => this.clear(), () => {
        this.clear();
        this.active = true;
      });
    } catch (err) {
      this.active = false;
      logger.error("access cache listener failed; access checks go to PostgreSQL", { error: (err as Error).message });
    }
  }
}
