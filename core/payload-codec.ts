/**
 * Encrypts every payload Weft puts into Temporal (workflow and activity inputs and results, failure messages) with
 * AES-256-GCM, so histories hold ciphertext. Each tenant's payloads are sealed with that tenant's own data key
 * (envelope encryption: data keys are stored wrapped under the master key WEFT_PAYLOAD_KEY, db/payload-keys.ts).
 * The tenant travels with the payload: the SDK hands the codec the workflow id a payload belongs to (its
 * serialization context), Weft's workflow ids name the run, schedule or ingestion (db/payload-tenants.ts), and the
 * codec writes the tenant into the payload's metadata, bound into the ciphertext as associated data so it cannot
 * be relabelled. Payloads that belong to no tenant use the "system" tenant, which only Weft's processes decode.
 * WebCrypto only: the same codec runs in the API (Deno) and the worker (Node).
 */
import type { Payload, PayloadCodec, SerializationContext } from "@temporalio/common";
import proto from "@temporalio/proto";
import { z } from "zod";
import { loadMasterKeys } from "./secrets-crypto.ts";

/** The payload master key (it must be the same in every process) and earlier ones, still accepted for decryption. */
export const payloadEnv = {
  /** 32 bytes, base64; unset, payloads reach Temporal in clear. */
  WEFT_PAYLOAD_KEY: z.string().optional().transform((v) => v || undefined),
  WEFT_PAYLOAD_OLD_KEYS: z.string().default(""),
};

/** The payload settings of a process's parsed config (or a test's literal object). */
export interface PayloadKeys {
  WEFT_PAYLOAD_KEY?: string;
  WEFT_PAYLOAD_OLD_KEYS?: string;
}

// A CommonJS package: its namespace comes as the default export in both Node and Deno.
const { temporal } = proto;

const ENCODING = "binary/encrypted";
/** Metadata naming the tenant whose data key sealed the payload. */
export const TENANT_METADATA = "weft-tenant";
/** The tenant of payloads that belong to no user (searches, workflows Weft did not start for a run). */
export const SYSTEM_TENANT = "system";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Per-tenant data keys (db/payload-keys.ts keeps them wrapped under the master key). */
export interface DataKeys {
  /** The tenant's current data key, created on first use. */
  current(tenant: string): Promise<{ id: string; key: CryptoKey }>;
  /** One of the tenant's data keys by id; null when there is none, or it is another tenant's. */
  byId(tenant: string, id: string): Promise<CryptoKey | null>;
}

/** The tenant a workflow's payloads belong to, from its workflow id; SYSTEM_TENANT when none. */
export type TenantOf = (workflowId: string) => Promise<string>;

const meta = (payload: Payload, key: string) => {
  const v = payload.metadata?.[key];
  return v ? decoder.decode(v) : "";
};
const aad = (tenant: string, keyId: string) => encoder.encode(`weft-payload:${tenant}:${keyId}`);

async function seal(payload: Payload, key: CryptoKey, additionalData?: Uint8Array) {
  const plain = temporal.api.common.v1.Payload.encode(payload).finish();
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const params = additionalData ? { name: "AES-GCM", iv, additionalData } : { name: "AES-GCM", iv };
  const sealed = new Uint8Array(await crypto.subtle.encrypt(params, key, new Uint8Array(plain)));
  const data = new Uint8Array(iv.length + sealed.length);
  data.set(iv);
  data.set(sealed, iv.length);
  return data;
}

async function open(data: Uint8Array, key: CryptoKey, additionalData?: Uint8Array): Promise<Payload> {
  const iv = data.slice(0, 12);
  const params = additionalData ? { name: "AES-GCM", iv, additionalData } : { name: "AES-GCM", iv };
  const plain = await crypto.subtle.decrypt(params, key, data.slice(12));
  return temporal.api.common.v1.Payload.decode(new Uint8Array(plain)) as Payload;
}

/** Whether a payload is sealed at all, and by whom: a tenant, or (before tenant keys) the master key itself. */
export function payloadTenant(payload: Payload): string | null {
  if (meta(payload, "encoding") !== ENCODING) return null;
  return meta(payload, TENANT_METADATA) || SYSTEM_TENANT;
}

/**
 * Payloads sealed directly with the master key, as Weft wrote them before per-tenant keys: still decoded (old
 * histories replay), and what a process without the database (no data keys) writes.
 */
export class EncryptionCodec implements PayloadCodec {
  private constructor(private readonly keyId: string, private readonly keys: Map<string, CryptoKey>) {}

  /** WEFT_PAYLOAD_KEY: 32 bytes, base64. Earlier keys (comma-separated) still decrypt old histories. */
  static async create(current: string, old = ""): Promise<EncryptionCodec> {
    const keys = await loadMasterKeys(current, old);
    return new EncryptionCodec(keys.current.id, keys.all);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return await Promise.all(payloads.map(async (payload) => ({
      metadata: { encoding: encoder.encode(ENCODING), "encryption-key-id": encoder.encode(this.keyId) },
      data: await seal(payload, this.keys.get(this.keyId)!),
    })));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return await Promise.all(payloads.map(async (payload) => {
      // Payloads written before encryption was turned on pass through as they are.
      if (meta(payload, "encoding") !== ENCODING || !payload.data) return payload;
      const keyId = meta(payload, "encryption-key-id");
      const key = this.keys.get(keyId);
      if (!key) throw new Error(`payload encrypted with unknown key ${keyId}`);
      return await open(new Uint8Array(payload.data), key);
    }));
  }
}

/** The codec of Weft's processes: per-tenant data keys; master-key payloads of before are still decoded. */
export class TenantCodec implements PayloadCodec {
  constructor(
    private readonly legacy: EncryptionCodec,
    private readonly keys: DataKeys,
    private readonly tenantOf: TenantOf,
  ) {}

  /** Seals under the tenant of the workflow the payloads belong to (the SDK's serialization context). */
  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    const workflowId = context?.workflowId;
    return await this.encodeFor(workflowId ? await this.tenantOf(workflowId) : SYSTEM_TENANT, payloads);
  }

  async encodeFor(tenant: string, payloads: Payload[]): Promise<Payload[]> {
    if (!payloads.length) return payloads;
    const { id, key } = await this.keys.current(tenant);
    return await Promise.all(payloads.map(async (payload) => ({
      metadata: {
        encoding: encoder.encode(ENCODING),
        "encryption-key-id": encoder.encode(id),
        [TENANT_METADATA]: encoder.encode(tenant),
      },
      data: await seal(payload, key, aad(tenant, id)),
    })));
  }

  /** Every tenant's payloads: for Weft's own processes only. */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return await Promise.all(payloads.map((p) => this.decodeOne(p)));
  }

  /**
   * A caller's view (the codec endpoint): payloads of `tenant` (or of any of `tenant`s: a person's workspaces)
   * are decoded; any other tenant's (the system's, and master-key payloads of before, which name no tenant) come
   * back as they are, still sealed.
   */
  async decodeFor(
    tenant: string | readonly string[],
    payloads: Payload[],
  ): Promise<{ payloads: Payload[]; refused: number }> {
    const allowed = new Set(typeof tenant === "string" ? [tenant] : tenant);
    allowed.delete(SYSTEM_TENANT);
    let refused = 0;
    const out = await Promise.all(payloads.map((p) => {
      const owner = payloadTenant(p);
      if (owner === null) return p;
      if (!allowed.has(owner) || !meta(p, TENANT_METADATA)) {
        refused++;
        return p;
      }
      return this.decodeOne(p);
    }));
    return { payloads: out, refused };
  }

  private async decodeOne(payload: Payload): Promise<Payload> {
    const tenant = meta(payload, TENANT_METADATA);
    if (!tenant || !payload.data || meta(payload, "encoding") !== ENCODING) {
      return (await this.legacy.decode([payload]))[0];
    }
    const keyId = meta(payload, "encryption-key-id");
    const key = await this.keys.byId(tenant, keyId);
    if (!key) throw new Error(`payload sealed with data key ${keyId}, which tenant ${tenant} does not have`);
    return await open(new Uint8Array(payload.data), key, aad(tenant, keyId));
  }
}

/**
 * The data converter for clients and workers: encryption when a key is configured; per-tenant keys when the
 * process has the database (`tenantKeys`), else master-key payloads. Failure messages and stack traces are
 * encoded too (core/failure-converter.ts), so they reach Temporal only as ciphertext.
 */
export async function weftDataConverter(
  env: PayloadKeys,
  tenantKeys?: { keys: DataKeys; tenantOf: TenantOf },
) {
  if (!env.WEFT_PAYLOAD_KEY) return undefined;
  const legacy = await EncryptionCodec.create(env.WEFT_PAYLOAD_KEY, env.WEFT_PAYLOAD_OLD_KEYS ?? "");
  return { payloadCodecs: [tenantKeys ? new TenantCodec(legacy, tenantKeys.keys, tenantKeys.tenantOf) : legacy] };
}
