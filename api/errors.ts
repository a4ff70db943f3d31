/** One API error type and one JSON error shape: {"error": {code, message, details?, request_id}}. */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { InvalidGraphError } from "../db/runs.ts";
import type { AppEnv } from "./env.ts";

export const ERROR_CODES = {
  BAD_REQUEST: 400,
  VALIDATION_ERROR: 400,
  INVALID_GRAPH: 400,
  UNKNOWN_NODE_TYPE: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  GRAPH_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ApiError extends HTTPException {
  readonly code: ErrorCode;
  readonly details?: unknown;
  /** Sent as `Retry-After` (seconds): when trying again later is the client's remedy. */
  readonly retryAfterSeconds?: number;

  constructor(code: ErrorCode, message: string, details?: unknown, options: { retryAfterSeconds?: number } = {}) {
    super(ERROR_CODES[code], { message });
    this.code = code;
    this.details = details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export const notFound = (what: string) => new ApiError("NOT_FOUND", `${what} not found`);

/** Temporal did not do what was asked; `consequence` says what the client's request did not do. */
export function engineUnavailable(consequence: string, options: { retryAfterSeconds?: number } = {}): ApiError {
  return new ApiError("SERVICE_UNAVAILABLE", `the workflow engine is unavailable; ${consequence}`, undefined, options);
}

/** The engine's refusals that are the client's to fix: a graph that cannot run. */
function fromEngineError(err: unknown): ApiError | null {
  if (err instanceof InvalidGraphError) return new ApiError("INVALID_GRAPH", err.message, { errors: err.errors });
  return null;
}

function fromHttpException(err: HTTPException): ApiError {
  if (err instanceof ApiError) return err;
  const status = err.status;
  if (status === 400) {
    // Hono's own body parser says "Malformed JSON in request body" and the like.
    return new ApiError("BAD_REQUEST", err.message || "bad request");
  }
  if (status === 401) return new ApiError("UNAUTHORIZED", err.message || "unauthorized");
  if (status === 403) return new ApiError("FORBIDDEN", err.message || "forbidden");
  if (status === 413) return new ApiError("PAYLOAD_TOO_LARGE", "request body is too large");
  if (status === 404) return new ApiError("NOT_FOUND", err.message || "not found");
  return new ApiError(status >= 500 ? "INTERNAL_ERROR" : "BAD_REQUEST", err.message || "request failed");
}

/** postgres.js errors that mean the client sent something the database refused. */
function fromDatabaseError(err: unknown): ApiError | null {
  const code = (err as { code?: string }).code;
  if (code === "23505") return new ApiError("CONFLICT", "a resource with these values already exists");
  if (code === "22P02" || code === "22003" || code === "22023") {
    return new ApiError("BAD_REQUEST", "a value in the request has the wrong format");
  }
  if (code === "54000" || code === "22021") {
    return new ApiError("BAD_REQUEST", "a value in the request cannot be stored");
  }
  return null;
}

export function errorBody(c: Context<AppEnv>, err: ApiError) {
  const error: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.details !== undefined) error.details = err.details;
  error.request_id = c.get("requestId");
  return { error };
}

export function onError(err: Error, c: Context<AppEnv>) {
  let apiError: ApiError | null = null;
  if (err instanceof HTTPException) apiError = fromHttpException(err);
  else apiError = fromEngineError(err) ?? fromDatabaseError(err);
  if (!apiError) {
    c.get("logger")?.error("unhandled error", { error: err?.message, stack: err?.stack });
    apiError = new ApiError("INTERNAL_ERROR", "internal error");
  }
  if (apiError.retryAfterSeconds !== undefined) c.header("Retry-After", String(apiError.retryAfterSeconds));
  return c.json(errorBody(c, apiError), ERROR_CODES[apiError.code]);
}
