/** The API process (Deno): read config, connect to PostgreSQL, reach Temporal over its HTTP API, serve. */
import process from "node:process";
import { connect } from "../db/client.ts";
import { weftDataConverter } from "../core/payload-codec.ts";
import { payloadTenantKeys } from "../db/payload-keys.ts";
import { createApp } from "./app.ts";
import { createApiMetrics } from "./metrics.ts";
import { ensureRetentionSchedule } from "./retention.ts";
import { RunEventHub } from "./runs/event-hub.ts";
import { startOrphanSweeper } from "./runs/orphans.ts";
import { type ApiConfig, loadConfig } from "./config.ts";
import { createLogger } from "./logger.ts";
import { temporalHttpTarget } from "./temporal/address.ts";
import { temporalFetch } from "./temporal/deno.ts";
import { TemporalHttpClient } from "./temporal/http.ts";

const logger = createLogger({ service: "weft-api" });

let config: ApiConfig;
try {
  config = loadConfig(process.env);
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}

// Traces only when an OTLP endpoint is configured: otherwise the SDK is never loaded (core/tracing.ts is a no-op).
const tracing = config.OTEL_EXPORTER_OTLP_ENDPOINT
  ? (await import("../core/tracing-sdk.ts")).startTracing(
    config.OTEL_EXPORTER_OTLP_ENDPOINT,
    config.OTEL_SERVICE_NAME ?? "weft-api",
  )
  : undefined;

const sql = connect(config.DATABASE_URL, { max: config.WEFT_DB_POOL_MAX });
// Each tenant's payloads under its own data key (core/payload-codec.ts).
const dataConverter = await weftDataConverter(config, await payloadTenantKeys(sql, config));
const codec = dataConverter?.payloadCodecs[0];
// Temporal's HTTP API, not gRPC: Deno's node:http2 aborts the process when a server shuts down (denoland/deno#36788).
const target = temporalHttpTarget(config);
const temporal = new TemporalHttpClient({
  url: target.url,
  namespace: config.TEMPORAL_NAMESPACE,
  apiKey: config.TEMPORAL_API_KEY,
  codec,
  fetch: temporalFetch(config, target),
});
// The hourly schedule that prunes expired runs; its absence must not stop the API from serving.
void ensureRetentionSchedule(temporal, config, logger);
const metrics = createApiMetrics(sql, {
  temporal,
  queues: [...new Set([config.WEFT_TASK_QUEUE, config.WEFT_GPU_TASK_QUEUE])],
});
const events = new RunEventHub(sql, logger);
const app = createApp({ config, sql, temporal, logger, codec, metrics, events });
// Prometheus scrapes this port; the Service/Ingress in front of the API exposes only PORT.
const metricsServer = config.WEFT_METRICS_PORT
  ? Deno.serve({
    port: config.WEFT_METRICS_PORT,
    hostname: "0.0.0.0",
    onListen: ({ port }) => logger.info("metrics listening", { port }),
  }, async (req) =>
    new URL(req.url).pathname === "/metrics"
      ? new Response(await metrics.registry.metrics(), { headers: { "content-type": metrics.registry.contentType } })
      : new Response("not found\n", { status: 404 }))
  : undefined;
const stopSweeper = startOrphanSweeper({ config, sql, temporal, logger, codec }, logger);

const server = Deno.serve({
  port: config.PORT,
  hostname: "0.0.0.0",
  onListen: ({ port }) => logger.info("listening", { port, docs: `http://localhost:${port}/docs` }),
}, app.fetch);

let stopping = false;
const shutdown = async () => {
  // A second signal, or requests that never finish (a stuck query, a client that keeps a stream open), must
  // not keep the process alive past its grace period: the deadline exits whatever is still in flight.
  if (stopping) Deno.exit(1);
  stopping = true;
  logger.info("shutting down", { grace_ms: config.WEFT_SHUTDOWN_GRACE_MS });
  const deadline = setTimeout(() => {
    logger.warn("shutdown grace period over; exiting with requests in flight");
    Deno.exit(1);
  }, config.WEFT_SHUTDOWN_GRACE_MS);
  stopSweeper();
  // Open event streams would otherwise hold the graceful shutdown until their runs finish.
  events.closeAll();
  await server.shutdown();
  await metricsServer?.shutdown();
  await sql.end({ timeout: 5 });
  await tracing?.shutdown();
  clearTimeout(deadline);
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", shutdown);
Deno.addSignalListener("SIGTERM", shutdown);
