/** The Temporal header @temporalio/interceptors-opentelemetry carries a trace in (its TRACE_HEADER). */
export const TEMPORAL_TRACE_HEADER = "_tracer-data";
