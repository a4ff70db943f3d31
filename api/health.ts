/**
 * Liveness and readiness, kept apart on purpose. Liveness (/healthz) fails only when this process is wedged
 * (its pool does not answer while a fresh connection to PostgreSQL does, e.g. every pooled connection stuck),
 * so Kubernetes restarts it; a stalled event loop fails it by not answering within the probe's timeout.
 * PostgreSQL or Temporal being away is readiness's business (/readyz): restarting the API would not help.
 * Readiness also reports whether workers poll each task queue, without failing for it: KEDA may scale workers
 * to zero, and runs then wait in Temporal until one comes.
 */
import { Hono } from "hono";
import { connect } from "../db/client.ts";
import type { AppEnv } from "./env.ts";

const withTimeout = <T>(p: Promise<T>, ms: number) => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)),
  ]).finally(() => clearTimeout(timer));
};

const check = async (p: () => Promise<unknown>, ms: number) => {
  try {
    await withTimeout(p(), ms);
    return "ok";
  } catch (err) {
    return `unavailable: ${(err as Error).message}`;
  }
};

/** A query on a connection of its own, outside the pool: does PostgreSQL itself answer? */
async function directQuery(url: string) {
  const one = connect(url, { max: 1 });
  try {
    await one`SELECT 1`;
  } finally {
    await one.end({ timeout: 1 });
  }
}

export function healthRoutes() {
  const app = new Hono<AppEnv>();
  app.get("/healthz", async (c) => {
    const { sql, config } = c.get("services");
    const pool = await check(() => sql`SELECT 1`, config.WEFT_LIVENESS_POOL_TIMEOUT_MS);
    if (pool === "ok") return c.json({ status: "ok", checks: { pool } });
    const postgres = await check(() => directQuery(config.DATABASE_URL), 1000);
    if (postgres !== "ok") return c.json({ status: "ok", checks: { pool, postgres } });
    c.get("logger").error("liveness: the connection pool is wedged", { pool });
    return c.json({ status: "wedged", checks: { pool, postgres } }, 503);
  });
  app.get("/readyz", async (c) => {
    const { sql, temporal, config, metrics } = c.get("services");
    const queues = [...new Set([config.WEFT_TASK_QUEUE, config.WEFT_GPU_TASK_QUEUE])];
    const [postgres, temporalStatus, pollers] = await Promise.all([
      check(() => sql`SELECT 1`, 2000),
      check(() => temporal.systemInfo(AbortSignal.timeout(2000)), 2000),
      Promise.all(queues.map((q) => withTimeout(temporal.taskQueuePollers(q), 2000).catch(() => null))),
    ]);
    const workers = Object.fromEntries(queues.map((q, i) => {
      const p = pollers[i];
      metrics?.setPollers(q, p);
      return [q, p ? { polled: p.workflow > 0 || p.activity > 0, ...p } : { polled: null }];
    }));
    const ready = postgres === "ok" && temporalStatus === "ok";
    return c.json(
      { status: ready ? "ready" : "not_ready", checks: { postgres, temporal: temporalStatus }, workers },
      ready ? 200 : 503,
    );
  });
  return app;
}
