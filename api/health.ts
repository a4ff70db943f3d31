/** Liveness (the process answers) and readiness (PostgreSQL and Temporal answer). */
import { Hono } from "hono";
import type { AppEnv } from "./env.ts";

const withTimeout = <T>(p: Promise<T>, ms: number) => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)),
  ]).finally(() => clearTimeout(timer));
};

export function healthRoutes() {
  const app = new Hono<AppEnv>();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const { sql, temporal } = c.get("services");
    const check = async (p: () => Promise<unknown>) => {
      try {
        await withTimeout(p(), 2000);
        return "ok";
      } catch (err) {
        return `unavailable: ${(err as Error).message}`;
      }
    };
    const [postgres, temporalStatus] = await Promise.all([
      check(() => sql`SELECT 1`),
      check(() => temporal.systemInfo(AbortSignal.timeout(2000))),
    ]);
    const ready = postgres === "ok" && temporalStatus === "ok";
    return c.json(
      { status: ready ? "ready" : "not_ready", checks: { postgres, temporal: temporalStatus } },
      ready ? 200 : 503,
    );
  });
  return app;
}
