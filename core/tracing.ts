/**
 * Weft's spans, through the OpenTelemetry API only. Until a process installs the SDK (core/tracing-sdk.ts, only
 * when OTEL_EXPORTER_OTLP_ENDPOINT is set) every call here is the API's no-op: no span is recorded, nothing is
 * exported, no header is written.
 */
import {
  type Attributes,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";

const tracer = () => trace.getTracer("weft");

/** Runs `fn` inside a new span (a child of the active one), ended and marked failed when `fn` throws. */
export async function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return await tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      // The error's class only: messages can carry a URL, a response or a user's data the collector must not get.
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.name ?? "Error" });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Runs `fn` in the trace a caller's W3C `traceparent`/`tracestate` headers name (a no-op without them). */
export function withIncomingTrace<T>(headers: { get(name: string): string | null | undefined }, fn: () => T): T {
  const carrier: Record<string, string> = {};
  for (const name of ["traceparent", "tracestate"]) {
    const v = headers.get(name);
    if (v) carrier[name] = v;
  }
  if (!carrier.traceparent) return fn();
  return context.with(propagation.extract(ROOT_CONTEXT, carrier), fn);
}

/** The active span's context as W3C headers (`traceparent`, `tracestate`); empty when nothing is traced. */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** The active trace's id, for log lines; undefined when no span is recording. */
export function activeTraceId(): string | undefined {
  const span = trace.getActiveSpan();
  return span?.isRecording() ? span.spanContext().traceId : undefined;
}

/**
 * A span around one of Weft's PostgreSQL helpers (postgres.js has no instrumentation of its own): named by the
 * helper's operation, never by the SQL text or its parameters.
 */
export function dbSpan<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  return withSpan(`db ${operation}`, { "db.system": "postgresql", "db.operation.name": operation }, fn);
}
