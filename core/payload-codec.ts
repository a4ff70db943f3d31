/**
 * Encrypts every payload Weft puts into Temporal (workflow and activity inputs and results) with
 * AES-256-GCM, so histories hold ciphertext; the API's codec endpoints let the Temporal UI show them to an
 * authenticated operator. WebCrypto only: the same codec runs in the API (Deno) and the worker (Node).
 */
import type { Payload, PayloadCodec } from "@temporalio/common";
import proto from "@temporalio/proto";
import { loadMasterKeys } from "./secrets-crypto.ts";

// A CommonJS package: its namespace comes as the default export in both Node and Deno.
const { temporal } = proto;

const ENCODING = "binary/encrypted";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class EncryptionCodec implements PayloadCodec {
  private constructor(private readonly keyId: string, private readonly keys: Map<string, CryptoKey>) {}

  /** WEFT_PAYLOAD_KEY: 32 bytes, base64. Earlier keys (comma-separated) still decrypt old histories. */
  static async create(current: string, old = ""): Promise<EncryptionCodec> {
    const keys = await loadMasterKeys(current, old);
    return new EncryptionCodec(keys.current.id, keys.all);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return await Promise.all(payloads.map(async (payload) => {
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const sealed = new Uint8Array(
        await crypto.subtle.encrypt({ name: "AES-GCM", iv }, this.keys.get(this.keyId)!, new Uint8Array(plain)),
      );
      const data = new Uint8Array(iv.length + sealed.length);
      data.set(iv);
      data.set(sealed, iv.length);
      return {
        metadata: { encoding: encoder.encode(ENCODING), "encryption-key-id": encoder.encode(this.keyId) },
        data,
      };
    }));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return await Promise.all(payloads.map(async (payload) => {
      const encoding = payload.metadata?.encoding ? decoder.decode(payload.metadata.encoding) : "";
      // Payloads written before encryption was turned on pass through as they are.
      if (encoding !== ENCODING || !payload.data) return payload;
      const keyId = decoder.decode(payload.metadata!["encryption-key-id"]);
      const key = this.keys.get(keyId);
      if (!key) throw new Error(`payload encrypted with unknown key ${keyId}`);
      const data = new Uint8Array(payload.data);
      const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: data.slice(0, 12) }, key, data.slice(12));
      return temporal.api.common.v1.Payload.decode(new Uint8Array(plain)) as Payload;
    }));
  }
}

/** The data converter for clients and workers: encryption when a key is configured. */
export async function weftDataConverter(env: Record<string, string | undefined>) {
  if (!env.WEFT_PAYLOAD_KEY) return undefined;
  return { payloadCodecs: [await EncryptionCodec.create(env.WEFT_PAYLOAD_KEY, env.WEFT_PAYLOAD_OLD_KEYS ?? "")] };
}
