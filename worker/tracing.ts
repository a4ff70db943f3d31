/**
 * The worker's traces (loaded only when OTEL_EXPORTER_OTLP_ENDPOINT is set): the SDK, an activity span per
 * attempt continuing the workflow's trace from the activity's headers, and the sink through which spans recorded
 * inside workflows (workflows/tracing.ts) reach the same exporter.
 */
import type { Context } from "@temporalio/activity";
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from "@temporalio/interceptors-opentelemetry";
import { startTracing } from "../core/tracing-sdk.ts";

export function workerTracing(endpoint: string, serviceName: string) {
  const tracing = startTracing(endpoint, serviceName);
  return {
    activityInterceptors: [(ctx: Context) => ({
      inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
      outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
    })],
    sinks: { exporter: makeWorkflowExporter(tracing.processor, tracing.resource) },
    shutdown: tracing.shutdown,
  };
}
