/**
 * The OpenTelemetry SDK, loaded (by dynamic import) only when OTEL_EXPORTER_OTLP_ENDPOINT is set: spans go in
 * batches to `<endpoint>/v1/traces` over OTLP/HTTP (JSON), context follows async calls, W3C headers propagate.
 * Shared by the API (Deno) and the worker (Node): both run these packages unchanged.
 */
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { Resource } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base";

export interface Tracing {
  resource: Resource;
  /** The processor spans recorded inside workflows are handed to (the worker's sink). */
  processor: SpanProcessor;
  /** Flushes what is buffered and stops. */
  shutdown(): Promise<void>;
}

export function startTracing(endpoint: string, serviceName: string): Tracing {
  const resource = new Resource({ "service.name": serviceName });
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, "")}/v1/traces` });
  // Short delay: a run's spans reach the collector within a second, not after the default five.
  const processor = new BatchSpanProcessor(exporter, { scheduledDelayMillis: 500 });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return { resource, processor, shutdown: () => provider.shutdown() };
}
