/** The worker's probe and scrape endpoints: `/healthz` (200 only while the Temporal worker runs) and `/metrics`. */
import { createServer, type Server } from "node:http";
import type { State, Worker } from "@temporalio/worker";
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { activityMetricsRegistry } from "../activities/metrics.ts";

const STATES: State[] = ["INITIALIZED", "RUNNING", "STOPPING", "DRAINING", "DRAINED", "STOPPED", "FAILED"];

export interface HealthOptions {
  port: number;
  host?: string;
  labels?: Record<string, string>;
  warn?: (msg: string, fields: Record<string, unknown>) => void;
}

export function createWorkerRegistry(worker: Pick<Worker, "getState">, labels: Record<string, string> = {}) {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: "weft_worker_state",
    help: "1 for the Temporal worker's current state, 0 for the others",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const now = worker.getState();
      for (const state of STATES) this.set({ state }, state === now ? 1 : 0);
    },
  });
  // Run, node and model metrics recorded by the activities (activities/metrics.ts), under the same labels.
  const merged = Registry.merge([registry, activityMetricsRegistry]);
  merged.setDefaultLabels(labels);
  return merged;
}

/**
 * Serves both endpoints. The server never keeps the process alive (unref'd, no keep-alive), so the worker
 * exits as before once drained; a port already taken (another worker on a dev machine) is a warning, not a crash.
 */
export function serveWorkerHealth(worker: Pick<Worker, "getState">, options: HealthOptions): Server {
  const registry = createWorkerRegistry(worker, options.labels);
  const server = createServer(async (req, res) => {
    res.setHeader("connection", "close");
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
    } else if (path === "/healthz") {
      const state = worker.getState();
      res.writeHead(state === "RUNNING" ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: state === "RUNNING" ? "ok" : "unavailable", state }));
    } else if (path === "/metrics") {
      try {
        const body = await registry.metrics();
        res.writeHead(200, { "content-type": registry.contentType }).end(body);
      } catch (err) {
        res.writeHead(500, { "content-type": "text/plain" }).end(String(err));
      }
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  server.on("error", (err) => options.warn?.("health server unavailable", { port: options.port, error: err.message }));
  server.listen(options.port, options.host ?? "0.0.0.0");
  server.unref();
  return server;
}
