/**
 * Workflow interceptors for traces (in the workflow bundle): a workflow started with a trace header (the API
 * writes one only when tracing is on) gets @temporalio/interceptors-opentelemetry's spans and passes its
 * context on to each activity, local or not; any other workflow, and every recorded history without the header, runs with
 * no interceptor at all. Spans leave the sandbox through the worker's `exporter` sink; nothing here affects
 * the commands a workflow issues, so histories replay unchanged.
 */
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from "@temporalio/interceptors-opentelemetry/lib/workflow/index.js";
import type { WorkflowInterceptors } from "@temporalio/workflow";
import { TEMPORAL_TRACE_HEADER } from "../core/trace-header.ts";

export const interceptors = (): WorkflowInterceptors => {
  // Module state is per workflow execution in Temporal's sandbox.
  let traced = false;
  const inbound = new OpenTelemetryInboundInterceptor();
  const outbound = new OpenTelemetryOutboundInterceptor();
  const internals = new OpenTelemetryInternalsInterceptor();
  return {
    inbound: [{
      execute(input, next) {
        traced = input.headers[TEMPORAL_TRACE_HEADER] !== undefined;
        return traced ? inbound.execute(input, next) : next(input);
      },
    }],
    outbound: [{
      scheduleActivity: (input, next) => traced ? outbound.scheduleActivity(input, next) : next(input),
      // Short nodes run as local activities (core/node-execution.ts): their spans join the run's trace too.
      scheduleLocalActivity: (input, next) => traced ? outbound.scheduleLocalActivity(input, next) : next(input),
      getLogAttributes: (input, next) => traced ? outbound.getLogAttributes(input, next) : next(input),
    }],
    internals: [{ dispose: (input, next) => traced ? internals.dispose(input, next) : next(input) }],
  };
};
