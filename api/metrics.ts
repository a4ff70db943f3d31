/**
 * The API's Prometheus metrics (prom-client), served on their own port (WEFT_METRICS_PORT, api/main.ts) so the
 * Ingress never exposes them. Labels are route templates and statuses only: no user, workflow or run ids.
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Sql } from "../db/client.ts";

/** Routes whose 202 means a run was started. */
const RUN_STARTING_ROUTES = new Set([
  "/api/workflows/:id/execute",
  "/api/hooks/:token",
  "/api/workflows/:id/runs/:run_id/retry",
]);

export type ApiMetrics = ReturnType<typeof createApiMetrics>;

export function createApiMetrics(sql?: Sql) {
  const registry = new Registry();
  const httpDuration = new Histogram({
    name: "weft_http_request_duration_seconds",
    help: "API request duration by method, route template and status",
    labelNames: ["method", "route", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const runsStarted = new Counter({
    name: "weft_runs_started_total",
    help: "Runs started through the API (execute, webhook, retry)",
    labelNames: ["trigger"],
    registers: [registry],
  });
  new Gauge({
    name: "weft_runs_queued",
    help: "Runs accepted but not yet picked up by a worker (status pending)",
    registers: [registry],
    async collect() {
      if (!sql) return;
      const [row] = await sql`SELECT count(*)::int AS n FROM workflow_runs WHERE status = 'pending'`;
      this.set(row.n);
    },
  });

  /** The matched route's template ("/api/workflows/:id"), never the raw path (unbounded label values). */
  const routeOf = (c: Context) => {
    const route = matchedRoutes(c).findLast((r) => r.method !== "ALL");
    return route?.path ?? "unmatched";
  };

  const middleware: MiddlewareHandler = async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const route = routeOf(c);
      const status = String(c.res.status);
      httpDuration.observe({ method: c.req.method, route, status }, (performance.now() - started) / 1000);
      if (c.res.status === 202 && RUN_STARTING_ROUTES.has(route)) {
        runsStarted.inc({
          trigger: route.endsWith("/retry") ? "retry" : route.startsWith("/api/hooks") ? "webhook" : "api",
        });
      }
    }
  };
  return { registry, middleware };
}
