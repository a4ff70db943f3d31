/**
 * Workflow interceptors for traces (in the workflow bundle): a workflow started with a trace header (the API
 * writes one only when tracing is on) gets @temporalio/interceptors-opentelemetry's spans and passes its
 * context on to each activity, local or not; any other workflow, and every recorded history without the header, runs with
 * no interceptor at all. Spans leave the sandbox through the worker's `exporter` sink; nothing here affects
 * the commands a workflow issues, so histories replay unchanged.
 *
 * The OpenTelemetry modules are loaded only by a traced workflow: every workflow execution evaluates the modules it
 * loads afresh (Temporal's sandbox), and loading them with this module cost every run, traced or not: bench (c)'s
 * worker CPU per run fell from 43.5 to 36.2 ms without it (docs/benchmarks.md). `require` inside the function
 * keeps them in the bundle and out of the others' way.
 */
import type * as Otel from "@temporalio/interceptors-opentelemetry/lib/workflow/index.js";
import type { WorkflowInterceptors } from "@temporalio/workflow";
import { TEMPORAL_TRACE_HEADER } from "../core/trace-header.ts";

declare const require: (id: string) => unknown;

/** The OpenTelemetry interceptors, loaded and built on the first traced call. */
function otel() {
  const lib = require("@temporalio/interceptors-opentelemetry/lib/workflow/index.js") as typeof Otel;
  return {
    inbound: new lib.OpenTelemetryInboundInterceptor(),
    outbound: new lib.OpenTelemetryOutboundInterceptor(),
    internals: new lib.OpenTelemetryInternalsInterceptor(),
  };
}

export const interceptors = (): WorkflowInterceptors => {
  // Module state is per workflow execution in Temporal's sandbox.
  let traced: ReturnType<typeof otel> | undefined;
  return {
    inbound: [{
      execute(input, next) {
        if (input.headers[TEMPORAL_TRACE_HEADER] !== undefined) traced = otel();
        return traced ? traced.inbound.execute(input, next) : next(input);
      },
    }],
    outbound: [{
      scheduleActivity: (input, next) => traced ? traced.outbound.scheduleActivity(input, next) : next(input),
      // Short nodes run as local activities (core/node-execution.ts): their spans join the run's trace too.
      scheduleLocalActivity: (input, next) => traced ? traced.outbound.scheduleLocalActivity(input, next) : next(input),
      getLogAttributes: (input, next) => traced ? traced.outbound.getLogAttributes(input, next) : next(input),
    }],
    internals: [{ dispose: (input, next) => traced ? traced.internals.dispose(input, next) : next(input) }],
  };
};
