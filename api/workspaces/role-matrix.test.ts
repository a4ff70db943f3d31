/**
 * Generated from the role table (roles.ts): every /api/ route of the app has an entry, and every route that needs
 * a role answers 403 to every role below its entry and lets every role at or above it through (whatever it then
 * answers: 404 for the made-up ids here, 400 for a body it does not like) — for members and API keys alike. A new
 * route without an entry fails here.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { call, registerUser, setupApp, type TestContext } from "../../test/helpers.ts";
import { atLeast, type Role, ROLES, ROUTE_ROLES } from "./roles.ts";

let t: TestContext;
let shared: Awaited<ReturnType<typeof workspaceWithEveryRole>> | undefined;

/** A workspace where each role is held by a member and by an API key: `credentials[kind][role]` is the token. */
async function workspaceWithEveryRole() {
  const owner = await registerUser(t.app, "owner");
  const ws = (await call(t.app, "POST", "/api/workspaces", { token: owner.token, body: { name: "Matrix" } })).body.id;
  const members = { owner: owner.token } as Record<Role, string>;
  const keys = {} as Record<Role, string>;
  for (const role of ROLES) {
    if (role !== "owner") {
      const user = await registerUser(t.app, role);
      await call(t.app, "POST", `/api/workspaces/${ws}/members`, {
        token: owner.token,
        body: { email: user.email, role },
      });
      members[role] = user.token;
    }
    const key = await call(t.app, "POST", `/api/workspaces/${ws}/api-keys`, {
      token: owner.token,
      body: { name: role, role },
    });
    keys[role] = key.body.key;
  }
  return { ws, members, keys };
}

const BODIES: Record<string, unknown> = {
  "POST /api/workspaces/:id/members": { email: "nobody@example.com", role: "viewer" },
  "PATCH /api/workspaces/:id/members/:user_id": { role: "viewer" },
  "POST /api/workspaces/:id/api-keys": { name: "made in the matrix", role: "viewer" },
  "PATCH /api/workspaces/:id": { name: "Matrix" },
};
const concrete = (path: string, ws: string) =>
  (path.startsWith("/api/workspaces/:id") ? path.replace(":id", ws) : path)
    .replace(/:[a-z_]+/g, "00000000-0000-4000-8000-000000000000");

beforeAll(async () => {
  t = await setupApp();
});

describe("role table", () => {
  it("has an entry for every /api/ route, and no entry without a route", () => {
    const routes = new Set(
      t.app.routes.filter((r) => r.method !== "ALL" && r.path.startsWith("/api/")).map((r) => `${r.method} ${r.path}`),
    );
    expect([...routes].filter((r) => !(r in ROUTE_ROLES)), "routes without an entry").toEqual([]);
    expect(Object.keys(ROUTE_ROLES).filter((r) => !routes.has(r)), "entries without a route").toEqual([]);
  });

  const workspaceRoutes = Object.entries(ROUTE_ROLES)
    .filter(([, need]) => (ROLES as readonly string[]).includes(need))
    // Deleting the workspace goes last: it ends the fixture.
    .sort(([a], [b]) => Number(a === "DELETE /api/workspaces/:id") - Number(b === "DELETE /api/workspaces/:id"));

  it.each(workspaceRoutes)("%s needs %s: 403 below it, through at or above it", async (route, need) => {
    const [method, path] = route.split(" ");
    // Deleting the workspace ends a fixture: each call that gets through needs a fresh one.
    const destructive = route === "DELETE /api/workspaces/:id";
    let fixture = shared ??= await workspaceWithEveryRole();
    for (const role of ROLES) {
      for (const kind of ["members", "keys"] as const) {
        if (destructive && atLeast(role, need as Role)) fixture = await workspaceWithEveryRole();
        const res = await call(t.app, method, concrete(path, fixture.ws), {
          token: fixture[kind][role],
          body: BODIES[route] ?? (method === "GET" || method === "DELETE" ? undefined : {}),
          headers: { "weft-workspace": fixture.ws },
        });
        const what = `${route} as ${role} (${kind})`;
        if (atLeast(role, need as Role)) {
          expect([401, 403, 500], what).not.toContain(res.status);
        } else {
          expect(res.status, what).toBe(403);
          expect(res.body.error.code, what).toBe("FORBIDDEN");
        }
      }
    }
  }, 120_000);

  it("answers 404 on every workspace route to someone outside the workspace", async () => {
    const fixture = await workspaceWithEveryRole();
    const stranger = await registerUser(t.app, "stranger");
    for (const [route] of workspaceRoutes) {
      const [method, path] = route.split(" ");
      const res = await call(t.app, method, concrete(path, fixture.ws), {
        token: stranger.token,
        body: BODIES[route],
        headers: { "weft-workspace": fixture.ws },
      });
      expect(res.status, route).toBe(404);
    }
  });
});
