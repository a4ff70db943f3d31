/**
 * The API's Prometheus metrics (prom-client), served on their own port (WEFT_METRICS_PORT, api/main.ts) so the
 * Ingress never exposes them. Labels are route templates and statuses only: no user, workflow or run ids.
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Sql } from "../db/client.ts";
import type { TemporalApi } from "./temporal/client.ts";

/** Routes whose 202 means a run was started. */
const RUN_STARTING_ROUTES = new Set([
  "/api/workflows/:id/execute",
  "/api/hooks/:token",
  "/api/workflows/:id/runs/:run_id/retry",
]);

export type ApiMetrics = ReturnType<typeof createApiMetrics>;

/** Where the pollers gauge asks on scrape: Temporal and the task queues this API starts work on. */
export interface PollerSource {
  temporal: Pick<TemporalApi, "taskQueuePollers">;
  queues: string[];
}

export function createApiMetrics(sql?: Sql, pollerSource?: PollerSource) {
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

  // Whether workers poll each task queue (issue 10 property 7): /readyz reports it in its body without failing
  // readiness (KEDA may scale workers to zero), so an alert needs it as a metric. Refreshed on scrape (one
  // bounded Temporal call per queue and kind) and whenever /readyz computes it. An unanswered queue drops its
  // samples rather than reporting a stale count.
  const pollers = new Gauge({
    name: "weft_task_queue_pollers",
    help: "Workers polling each task queue, by kind (workflow, activity), as Temporal last reported",
    labelNames: ["queue", "kind"],
    registers: [registry],
    async collect() {
      if (!pollerSource) return;
      await Promise.all(pollerSource.queues.map(async (queue) => {
        const counts = await pollerSource.temporal.taskQueuePollers(queue).catch(() => null);
        setPollers(queue, counts);
      }));
    },
  });
  const setPollers = (queue: string, counts: { workflow: number; activity: number } | null) => {
    if (!counts) {
      pollers.remove({ queue, kind: "workflow" });
      pollers.remove({ queue, kind: "activity" });
      return;
    }
    pollers.set({ queue, kind: "workflow" }, counts.workflow);
    pollers.set({ queue, kind: "activity" }, counts.activity);
  };

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
  return { registry, middleware, setPollers };
}
