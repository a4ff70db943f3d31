/**
 * Connections to the tenants' sandboxes (db/sandbox.ts): one small pool per tenant, logged in as that
 * tenant's own role with its schema as the search path. The admin pool only provisions; user SQL never
 * runs on it. Provisioning happens once per tenant per process (and again if it failed).
 */
import { connect, type Sql } from "../../db/client.ts";
import { provisionTenant, tenantPassword, tenantRole } from "../../db/sandbox.ts";
import { nonRetryable } from "../errors.ts";

/** Tenants with an open pool at once; the least recently used pool closes beyond it. */
const MAX_TENANT_POOLS = 64;

export interface TenantSandbox {
  sql: Sql;
  /** The tenant's schema (and role) name. */
  schema: string;
}

export interface TenantSandboxes {
  /** The tenant's pool, provisioning its role and schema on first use. */
  forTenant(tenantId: string): Promise<TenantSandbox>;
  close(): Promise<void>;
}

export function createTenantSandboxes(adminUrl: string, masterKey: string | undefined): TenantSandboxes {
  const sandboxDb = decodeURIComponent(new URL(adminUrl).pathname.slice(1));
  let admin: Sql | undefined;
  const pools = new Map<string, Promise<TenantSandbox>>();

  async function open(tenantId: string): Promise<TenantSandbox> {
    if (!masterKey) {
      throw nonRetryable("SandboxUnavailable", "this worker has no master key (WEFT_SECRETS_KEY) for sandbox roles");
    }
    const role = tenantRole(sandboxDb, tenantId);
    const password = tenantPassword(masterKey, sandboxDb, tenantId);
    admin ??= connect(adminUrl, { max: 2, idle_timeout: 60 });
    await provisionTenant(admin, role, password);
    const url = new URL(adminUrl);
    url.username = role;
    url.password = password;
    const sql = connect(url.toString(), {
      max: 3,
      idle_timeout: 30,
      connection: { search_path: `"${role}"`, application_name: "weft-sandbox" },
    });
    return { sql, schema: role };
  }

  return {
    forTenant(tenantId) {
      let pool = pools.get(tenantId);
      if (pool) {
        pools.delete(tenantId); // re-inserted below: the map's order is the recency order
      } else {
        pool = open(tenantId);
        pool.catch(() => pools.delete(tenantId));
      }
      pools.set(tenantId, pool);
      if (pools.size > MAX_TENANT_POOLS) {
        const [oldest, evicted] = pools.entries().next().value!;
        pools.delete(oldest);
        evicted.then((p) => p.sql.end({ timeout: 30 })).catch(() => {});
      }
      return pool;
    },
    async close() {
      await Promise.all([...pools.values()].map((p) => p.then((s) => s.sql.end({ timeout: 5 })).catch(() => {})));
      await admin?.end({ timeout: 5 });
    },
  };
}
