import { describe, expect, it } from "vitest";
import { call } from "../test/helpers.ts";
import { useApiHarness } from "../test/harness.ts";

const t = useApiHarness();

/** Every route the app serves under /api, as "METHOD /path/{param}". */
function servedRoutes(): string[] {
  return t.app.routes
    .filter((r) => r.path.startsWith("/api/") && r.method !== "ALL")
    .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
}

describe("OpenAPI document", () => {
  it("documents every API route, generated from the validating schemas", async () => {
    const res = await call(t.app, "GET", "/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(res.body.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    const served = [...new Set(servedRoutes())];
    expect(served.length).toBeGreaterThanOrEqual(20);
    for (const route of served) expect(documented, route).toContain(route);
    expect(res.body.components.schemas.CreateNode.properties.name).toBeDefined();
    expect(res.body.components.securitySchemes.bearerAuth.scheme).toBe("bearer");
  });

  it("serves interactive docs", async () => {
    const res = await call(t.app, "GET", "/docs");
    expect(res.status).toBe(200);
    expect(String(res.body)).toContain("/docs/assets/swagger-ui-bundle.js");
    expect(String(res.body)).not.toContain("cdn.jsdelivr.net");
  });
});

describe("health", () => {
  it("healthz answers while the process is up; readyz checks PostgreSQL and Temporal", async () => {
    expect((await call(t.app, "GET", "/healthz")).body).toEqual({ status: "ok", checks: { pool: "ok" } });
    const ready = await call(t.app, "GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: "ready", checks: { postgres: "ok", temporal: "ok" } });
    expect(Object.keys(ready.body.workers)).toEqual(["weft-test", "weft-gpu"]);
  });

  it("every response carries a request id, echoed in errors", async () => {
    const res = await call(t.app, "GET", "/api/workflows");
    expect(res.status).toBe(401);
    expect(res.headers.get("x-request-id")).toBe(res.body.error.request_id);
  });
});
