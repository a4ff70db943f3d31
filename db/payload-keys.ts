/**
 * Per-tenant data keys for Temporal payloads (core/payload-codec.ts): random AES-256 keys, stored only wrapped
 * under the payload master key (WEFT_PAYLOAD_KEY; WEFT_PAYLOAD_OLD_KEYS still unwrap during a rotation), and the
 * tenant each Weft workflow id belongs to. Unwrapped keys and tenants are cached per process: both never change.
 */
import { WORKFLOW_ID_PREFIX } from "../core/contract.ts";
import type { DataKeys, PayloadKeys, TenantOf } from "../core/payload-codec.ts";
import { SYSTEM_TENANT } from "../core/payload-codec.ts";
import { loadMasterKeys, type MasterKeys } from "../core/secrets-crypto.ts";
import type { Sql } from "./client.ts";

const wrapAad = (tenant: string, id: string) => new TextEncoder().encode(`weft-data-key:${tenant}:${id}`);
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const CACHE_LIMIT = 10_000;

function remember<V>(cache: Map<string, Promise<V>>, key: string, load: () => Promise<V>, keep = (_v: V) => true) {
  let hit = cache.get(key);
  if (!hit) {
    hit = load();
    hit.then((v) => keep(v) || cache.delete(key), () => cache.delete(key));
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(key, hit);
  }
  return hit;
}

export async function wrapDataKey(master: MasterKeys, tenant: string, id: string, raw: Uint8Array) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const wrapped = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: wrapAad(tenant, id) },
      master.current.key,
      new Uint8Array(raw),
    ),
  );
  return { master_key_id: master.current.id, iv, wrapped };
}

export async function unwrapDataKey(
  master: MasterKeys,
  row: { id: string; tenant_id: string; master_key_id: string; iv: Uint8Array; wrapped: Uint8Array },
): Promise<Uint8Array> {
  const key = master.all.get(row.master_key_id);
  if (!key) {
    throw new Error(`data key ${row.id} is wrapped with master key ${row.master_key_id}, which is not configured`);
  }
  return new Uint8Array(
    await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: new Uint8Array(row.iv), additionalData: wrapAad(row.tenant_id, row.id) },
      key,
      new Uint8Array(row.wrapped),
    ),
  );
}

const importKey = (raw: Uint8Array) =>
  crypto.subtle.importKey("raw", new Uint8Array(raw), "AES-GCM", false, ["encrypt", "decrypt"]);

export function createDataKeys(sql: Sql, master: MasterKeys): DataKeys {
  const current = new Map<string, Promise<{ id: string; key: CryptoKey }>>();
  const byId = new Map<string, Promise<{ tenant: string; key: CryptoKey } | null>>();
  return {
    current: (tenant) =>
      remember(current, tenant, async () => {
        const [row] = await sql`SELECT id, tenant_id, master_key_id, iv, wrapped FROM tenant_data_keys
          WHERE tenant_id = ${tenant} ORDER BY created_at DESC, id LIMIT 1`;
        if (row) return { id: row.id as string, key: await importKey(await unwrapDataKey(master, row as never)) };
        const id = crypto.randomUUID();
        const raw = crypto.getRandomValues(new Uint8Array(32));
        const w = await wrapDataKey(master, tenant, id, raw);
        await sql`INSERT INTO tenant_data_keys (id, tenant_id, master_key_id, iv, wrapped)
          VALUES (${id}, ${tenant}, ${w.master_key_id}, ${w.iv}, ${w.wrapped})`;
        return { id, key: await importKey(raw) };
      }),
    byId: async (tenant, id) => {
      const found = await remember(byId, id, async () => {
        const [row] =
          await sql`SELECT id, tenant_id, master_key_id, iv, wrapped FROM tenant_data_keys WHERE id = ${id}`;
        if (!row) return null;
        return { tenant: row.tenant_id as string, key: await importKey(await unwrapDataKey(master, row as never)) };
      }, (v) => v !== null);
      return found && found.tenant === tenant ? found.key : null;
    },
  };
}

export interface WrappedDataKey {
  id: string;
  tenant_id: string;
  master_key_id: string;
  /** base64 */
  iv: string;
  /** base64 */
  wrapped: string;
}

/** Every data key as stored (still wrapped): what the replay corpus keeps beside its histories. */
export async function exportDataKeys(sql: Sql): Promise<WrappedDataKey[]> {
  return (await sql`SELECT id, tenant_id, master_key_id, encode(iv, 'base64') AS iv, encode(wrapped, 'base64') AS wrapped
    FROM tenant_data_keys ORDER BY created_at, id`) as unknown as WrappedDataKey[];
}

/** Data keys from a list (the replay corpus, test/histories/data-keys.json); new tenants get keys in memory. */
export function listedDataKeys(rows: WrappedDataKey[], master: MasterKeys): DataKeys {
  const unb64 = (t: string) => Uint8Array.from(atob(t), (c) => c.charCodeAt(0));
  const byId = new Map(rows.map((r) => [r.id, r]));
  const made = new Map<string, Promise<{ id: string; key: CryptoKey }>>();
  const load = async (r: WrappedDataKey) =>
    await importKey(await unwrapDataKey(master, { ...r, iv: unb64(r.iv), wrapped: unb64(r.wrapped) }));
  return {
    current: (tenant) =>
      remember(made, tenant, async () => {
        const listed = rows.findLast((r) => r.tenant_id === tenant);
        if (listed) return { id: listed.id, key: await load(listed) };
        return { id: crypto.randomUUID(), key: await importKey(crypto.getRandomValues(new Uint8Array(32))) };
      }),
    byId: async (tenant, id) => {
      const r = byId.get(id);
      return r && r.tenant_id === tenant ? await load(r) : null;
    },
  };
}

/** Weft's workflow ids name what they run for: weft-run-<run>, weft-schedule-<schedule>…, weft-ingest-<ingestion>. */
export function createTenantOf(sql: Sql): TenantOf {
  const cache = new Map<string, Promise<string>>();
  // The tenant is the workspace a run, schedule or collection belongs to (a personal workspace has its user's id,
  // which is what payloads sealed before workspaces name).
  const patterns: [RegExp, (id: string) => Promise<{ tenant: unknown }[]>][] = [
    [
      // A map batch (weft-run-<run>-map-<node>-<n>) carries its run's data: the run's tenant.
      new RegExp(`^${WORKFLOW_ID_PREFIX.run}(${UUID})(-map-${UUID}-[0-9]+)?$`),
      (id) => sql`SELECT workspace_id AS tenant FROM workflow_runs WHERE id = ${id}`,
    ],
    [
      new RegExp(`^${WORKFLOW_ID_PREFIX.schedule}(${UUID})(-.*)?$`),
      (id) => sql`SELECT workspace_id AS tenant FROM workflow_schedules WHERE id = ${id}`,
    ],
    [
      new RegExp(`^${WORKFLOW_ID_PREFIX.ingestion}(${UUID})$`),
      (id) =>
        sql`SELECT c.workspace_id AS tenant FROM vector_ingestions i JOIN vector_collections c ON c.id = i.collection_id
            WHERE i.id = ${id}`,
    ],
  ];
  return (workflowId) => {
    const match = patterns.find(([re]) => re.test(workflowId));
    if (!match) return Promise.resolve(SYSTEM_TENANT);
    const [re, query] = match;
    // Only found tenants are remembered: a row may appear after a first lookup.
    return remember(cache, workflowId, async () => {
      const [row] = await query(workflowId.match(re)![1]);
      return row ? String(row.tenant) : SYSTEM_TENANT;
    }, (t) => t !== SYSTEM_TENANT);
  };
}

/** What weftDataConverter needs for per-tenant keys, from the process's database and WEFT_PAYLOAD_* keys. */
export async function payloadTenantKeys(sql: Sql, env: PayloadKeys) {
  if (!env.WEFT_PAYLOAD_KEY) return undefined;
  const master = await loadMasterKeys(env.WEFT_PAYLOAD_KEY, env.WEFT_PAYLOAD_OLD_KEYS ?? "");
  return { keys: createDataKeys(sql, master), tenantOf: createTenantOf(sql) };
}

/** Master key rotation: re-wraps every data key (or one tenant's) not yet wrapped with the current master key. */
export async function rewrapDataKeys(sql: Sql, master: MasterKeys, tenant?: string): Promise<number> {
  const rows = await sql`SELECT id, tenant_id, master_key_id, iv, wrapped FROM tenant_data_keys
    WHERE master_key_id <> ${master.current.id} ${tenant === undefined ? sql`` : sql`AND tenant_id = ${tenant}`}`;
  for (const r of rows) {
    const raw = await unwrapDataKey(master, r as never);
    const w = await wrapDataKey(master, r.tenant_id as string, r.id as string, raw);
    await sql`UPDATE tenant_data_keys SET master_key_id = ${w.master_key_id}, iv = ${w.iv}, wrapped = ${w.wrapped}
      WHERE id = ${r.id as string} AND master_key_id = ${r.master_key_id as string}`;
  }
  return rows.length;
}
