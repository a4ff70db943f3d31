/**
 * One call to Temporal's HTTP API (the frontend's JSON gateway under /api/v1) with plain fetch: full payloads both
 * ways, one retry on a network failure, Temporal's error codes as TemporalServiceError, failures decoded.
 */
import type { PayloadCodec } from "@temporalio/common";
import { GrpcCode, type TemporalFailure, TemporalServiceError } from "./client.ts";
import type { JsonPayloads, PayloadJson } from "./payloads.ts";

export interface TemporalHttpOptions {
  /** The HTTP API's base URL, e.g. http://127.0.0.1:7243. */
  url: string;
  namespace: string;
  /** Sent as `Authorization: Bearer` (Temporal Cloud API keys). */
  apiKey?: string;
  /** The payload codec of Weft's data converter (encryption), when one is configured. */
  codec?: PayloadCodec;
  /** The transport: the global fetch by default; the API process passes one with its TLS settings. */
  fetch?: typeof fetch;
  identity?: string;
}

/** Ordinary calls; long polls (updates, waiting for a result) get their own, longer limit. */
export const CALL_TIMEOUT_MS = 15_000;
export const LONG_POLL_TIMEOUT_MS = 90_000;

/**
 * Full payloads in both directions: the content type makes the server read request payloads as
 * {metadata, data} only, and the query parameter makes it write them so in answers (its default "shorthand"
 * form would show JSON payloads as plain values).
 */
const CONTENT_TYPE = "application/json+no-payload-shorthand";
const NO_SHORTHAND = "noPayloadShorthand";

export type Json = Record<string, unknown>;

export interface JsonFailure {
  message?: string;
  cause?: JsonFailure;
  applicationFailureInfo?: { type?: string };
  /** The message and stack trace, encoded by the worker's failure converter (core/failure-converter.ts). */
  encodedAttributes?: JsonPayloads["payloads"] extends (infer P)[] | undefined ? P : never;
}

export interface CallOptions {
  query?: Record<string, string>;
  timeoutMs?: number;
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Re-throws `err` as `Kind` when Temporal answered with `code`. */
export function rethrowAs(
  err: unknown,
  code: number,
  Kind: new (m: string, c: number, s: number, d: unknown[]) => TemporalServiceError,
): unknown {
  if (err instanceof TemporalServiceError && err.code === code) {
    return new Kind(err.message, err.code, err.httpStatus, err.details);
  }
  return err;
}

export class TemporalHttpTransport {
  private readonly base: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: TemporalHttpOptions, private readonly payloads: PayloadJson) {
    this.base = options.url.replace(/\/+$/, "");
    this.fetch = options.fetch ?? fetch;
  }

  /** A path in the client's namespace. */
  ns(path: string) {
    return `/api/v1/namespaces/${encodeURIComponent(this.options.namespace)}${path}`;
  }

  /** The payload context of a workflow: the codec seals its payloads under the workflow's tenant. */
  context(workflowId: string) {
    return { type: "workflow" as const, namespace: this.options.namespace, workflowId };
  }

  /** A failure as the API reads it, its encoded message and stack trace decoded. */
  async toFailure(f: JsonFailure | undefined): Promise<TemporalFailure | undefined> {
    if (!f) return undefined;
    let message = f.message ?? "";
    if (f.encodedAttributes) {
      const [attrs] = await this.payloads.decode({ payloads: [f.encodedAttributes] });
      message = (attrs as { message?: string } | undefined)?.message ?? message;
    }
    return { message, type: f.applicationFailureInfo?.type, cause: await this.toFailure(f.cause) };
  }

  /**
   * One call. A network failure is tried once more: every call here is safe to repeat (starts and schedule
   * creation carry a request id, updates an update id), and a pooled connection the server closed fails once.
   */
  async call<T = Json>(
    method: string,
    path: string,
    body?: unknown,
    { query = {}, timeoutMs = CALL_TIMEOUT_MS, signal }: CallOptions = {},
  ): Promise<T> {
    const params = new URLSearchParams({ ...query, [NO_SHORTHAND]: "" });
    const url = `${this.base}${path}?${params}`;
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = CONTENT_TYPE;
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    let res: Response;
    for (let attempt = 1;; attempt++) {
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        res = await this.fetch(url, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
        break;
      } catch (err) {
        const aborted = (err as Error).name === "AbortError" || (err as Error).name === "TimeoutError";
        if (attempt < 2 && !aborted) {
          await sleep(50);
          continue;
        }
        // Deno's fetch says only "fetch failed"; the reason is in its cause.
        const cause = (err as Error).cause as Error | undefined;
        throw new TemporalServiceError(
          `Temporal's HTTP API at ${this.base} did not answer: ${(err as Error).message}${
            cause?.message ? ` (${cause.message})` : ""
          }`,
          aborted ? GrpcCode.DEADLINE_EXCEEDED : GrpcCode.UNAVAILABLE,
          0,
        );
      }
    }
    const text = await res.text();
    let parsed: Json = {};
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      // A proxy's HTML error page, say: reported by status below.
    }
    if (!res.ok) {
      const code = typeof parsed.code === "number" ? parsed.code : GrpcCode.UNAVAILABLE;
      const message = typeof parsed.message === "string" ? parsed.message : `HTTP ${res.status}: ${text.slice(0, 200)}`;
      throw new TemporalServiceError(message, code, res.status, (parsed.details as unknown[]) ?? []);
    }
    return parsed as T;
  }
}
