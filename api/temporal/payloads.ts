/**
 * Temporal payloads as the HTTP API carries them in their full form ({metadata: {key: base64}, data: base64}),
 * made and read through Weft's data converter: JSON payload converter, then the encryption codec when configured.
 */
import {
  defaultPayloadConverter,
  type Payload,
  type PayloadCodec,
  type SerializationContext,
} from "@temporalio/common";

/** A payload as JSON: the proto's bytes fields in standard base64. */
export interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

export interface JsonPayloads {
  payloads?: JsonPayload[];
}

const encoder = new TextEncoder();

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  // Chunks keep String.fromCharCode's argument list short on large payloads.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array {
  // The server writes standard base64; URL-safe input is accepted too.
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function toJson(payload: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) if (value) metadata[key] = toBase64(value);
  return { metadata, data: toBase64(payload.data ?? new Uint8Array()) };
}

function fromJson(payload: JsonPayload): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) metadata[key] = fromBase64(value);
  return { metadata, data: fromBase64(payload.data ?? "") };
}

/** Converts values to payloads and back exactly as the SDK's client would with the same codec. */
export class PayloadJson {
  constructor(private readonly codec?: PayloadCodec) {}

  /** `context` names the workflow the payloads are for: the codec seals them under its tenant's key. */
  async encode(values: unknown[], context?: SerializationContext): Promise<JsonPayloads> {
    let payloads = values.map((v) => defaultPayloadConverter.toPayload(v));
    if (this.codec) payloads = await this.codec.encode(payloads, context);
    return { payloads: payloads.map(toJson) };
  }

  /** A memo or schedule memo: each field one payload. */
  async encodeFields(
    fields: Record<string, unknown>,
    context?: SerializationContext,
  ): Promise<{ fields: Record<string, JsonPayload> }> {
    const keys = Object.keys(fields);
    const { payloads = [] } = await this.encode(keys.map((k) => fields[k]), context);
    return { fields: Object.fromEntries(keys.map((k, i) => [k, payloads[i]])) };
  }

  async decode(payloads: JsonPayloads | undefined): Promise<unknown[]> {
    let decoded = (payloads?.payloads ?? []).map(fromJson);
    if (this.codec) decoded = await this.codec.decode(decoded);
    return decoded.map((p) => defaultPayloadConverter.fromPayload(p));
  }
}

/** A Keyword search attribute, which Temporal reads unencoded (search attributes never go through a codec). */
export function keywordSearchAttribute(value: string): JsonPayload {
  return {
    metadata: { encoding: toBase64(encoder.encode("json/plain")), type: toBase64(encoder.encode("Keyword")) },
    data: toBase64(encoder.encode(JSON.stringify(value))),
  };
}
