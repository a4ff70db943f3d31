/** The `http_request` node: one HTTP call through the egress path; JSON answers parsed, timing recorded. */
import type { HttpFailureType } from "../../core/contract.ts";
import { httpRequestConfigSchema } from "../../core/node-types.ts";
import { nonRetryable, retryable } from "../errors.ts";
import { EgressBlockedError, egressFetch, ResponseTooLargeError } from "./egress.ts";
import type { EgressPolicy } from "./egress-policy.ts";
import { deadlineSignal } from "../deadline.ts";
import { traceHeaders, withSpan } from "../../core/tracing.ts";

export const DEFAULT_HTTP_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

export interface HttpOutput {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  /** "base64" when the body is binary (neither text nor JSON). */
  body_encoding?: "base64";
  content_type: string;
  url: string;
  elapsed_ms: number;
}

const TEXTUAL = /^text\/|[/+](json|xml)\b|javascript|x-www-form-urlencoded|^$/i;

/** JSON parsed, text kept, anything else base64 with its content type. */
function parseBody(bytes: Uint8Array, contentType: string): Pick<HttpOutput, "body" | "body_encoding"> {
  if (!TEXTUAL.test(contentType.split(";")[0].trim())) {
    return { body: Buffer.from(bytes).toString("base64"), body_encoding: "base64" };
  }
  const text = new TextDecoder().decode(bytes);
  if (/[/+]json\b/i.test(contentType)) {
    try {
      return { body: JSON.parse(text) };
    } catch {
      return { body: text };
    }
  }
  return { body: text };
}

function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.min(Math.max(seconds, 0), 3600) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.min(Math.max(date - Date.now(), 0), 3_600_000);
}

/** Runs a rendered http_request config. `signal` is the activity's cancellation signal. */
export async function httpRequest(rendered: unknown, signal: AbortSignal, policy: EgressPolicy): Promise<HttpOutput> {
  const parsed = httpRequestConfigSchema.safeParse(rendered);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${["config", ...i.path].join(".")}: ${i.message}`).join("; ");
    throw nonRetryable("InvalidConfig", `invalid http_request config after rendering templates: ${fields}`);
  }
  const config = parsed.data;
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    throw nonRetryable("InvalidConfig", `config.url is not a valid URL: ${config.url.slice(0, 200)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw nonRetryable("EgressBlocked", `blocked request: only http and https are allowed, not ${url.protocol}`);
  }
  for (const [k, v] of Object.entries(config.query ?? {})) url.searchParams.append(k, String(v));
  const headers = new Headers(config.headers ?? {});
  let body: string | undefined;
  if (config.body !== undefined && config.body !== null && config.method !== "GET" && config.method !== "HEAD") {
    if (typeof config.body === "string") body = config.body;
    else {
      body = JSON.stringify(config.body);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
    }
  }
  const timeoutMs = config.timeout_ms ?? DEFAULT_HTTP_TIMEOUT_MS;
  const started = performance.now();
  // A plain timer, not AbortSignal.timeout inside AbortSignal.any, which can lose it (see ../deadline.ts).
  const timedOut = () => retryable("Timeout", `request timed out after ${timeoutMs} ms`);
  const deadline = deadlineSignal(signal, timeoutMs, timedOut);
  let response;
  try {
    // A client span (host and method only: paths and queries may carry secrets), whose context the target
    // receives as W3C `traceparent`; with tracing off neither span nor header exists.
    response = await withSpan(`HTTP ${config.method}`, {
      "http.request.method": config.method,
      "server.address": url.hostname,
    }, async (span) => {
      for (const [k, v] of Object.entries(traceHeaders())) headers.set(k, v);
      const res = await egressFetch({
        url,
        method: config.method,
        headers,
        body,
        signal: deadline.signal,
        maxResponseBytes: config.max_response_bytes ?? DEFAULT_MAX_RESPONSE_BYTES,
        verifySsl: config.verify_ssl,
      }, policy);
      span.setAttribute("http.response.status_code", res.status);
      return res;
    });
  } catch (err) {
    if (err instanceof EgressBlockedError) throw nonRetryable("EgressBlocked", err.message);
    if (err instanceof ResponseTooLargeError) throw nonRetryable("ResponseTooLarge", err.message);
    if (signal.aborted) throw err;
    if (deadline.signal.aborted) throw deadline.signal.reason;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw retryable(
      "NetworkError",
      `request to ${url.host} failed: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
    );
  } finally {
    deadline.clear();
  }
  const elapsed_ms = Math.round((performance.now() - started) * 100) / 100;
  const contentType = response.headers.get("content-type") ?? "";
  const output: HttpOutput = {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    ...parseBody(response.body, contentType),
    content_type: contentType,
    url: response.url,
    elapsed_ms,
  };
  if (response.status >= 400) {
    const excerpt = typeof output.body === "string"
      ? output.body.slice(0, 500)
      : JSON.stringify(output.body).slice(0, 500);
    const message = `${config.method} ${url.origin}${url.pathname} answered ${response.status}: ${excerpt}`;
    const type: HttpFailureType = `HTTP_${response.status}`;
    if (response.status >= 500 || response.status === 408 || response.status === 429) {
      throw retryable(type, message, { status: response.status }, retryAfterMs(response.headers.get("retry-after")));
    }
    throw nonRetryable(type, message, { status: response.status });
  }
  return output;
}
