/** The audit log: who did what in a workspace, filtered and paged newest first, exported as NDJSON, admins only. */
import { beforeAll, describe, expect, it } from "vitest";
import { call, registerUser, setupApp, type TestContext } from "../../test/helpers.ts";

let t: TestContext;
type User = Awaited<ReturnType<typeof registerUser>>;
let alice: User, bob: User;
let ws: string;
let keyId: string;
beforeAll(async () => {
  t = await setupApp();
  [alice, bob] = await Promise.all([registerUser(t.app, "alice"), registerUser(t.app, "bob")]);
  ws = (await call(t.app, "POST", "/api/workspaces", { token: alice.token, body: { name: "Audited" } })).body.id;
  await call(t.app, "POST", `/api/workspaces/${ws}/members`, {
    token: alice.token,
    body: { email: bob.email, role: "admin" },
  });
  await call(t.app, "PATCH", `/api/workspaces/${ws}/members/${bob.id}`, {
    token: alice.token,
    body: { role: "viewer" },
  });
  const key = await call(t.app, "POST", `/api/workspaces/${ws}/api-keys`, {
    token: alice.token,
    body: { name: "deployer", role: "admin" },
    headers: { "x-request-id": "req-create-key" },
  });
  keyId = key.body.id;
  // The key acts: it removes Bob.
  await call(t.app, "DELETE", `/api/workspaces/${ws}/members/${bob.id}`, { token: key.body.key });
  await call(t.app, "PATCH", `/api/workspaces/${ws}`, { token: alice.token, body: { name: "Audited 2" } });
  await call(t.app, "DELETE", `/api/workspaces/${ws}/api-keys/${keyId}`, { token: alice.token });
});

const audit = (query = "", token = alice.token, headers: Record<string, string> = {}) =>
  call(t.app, "GET", `/api/workspaces/${ws}/audit${query}`, { token, headers });

describe("audit log (happy)", () => {
  it("records every change, newest first, with who, what, which resource and the request", async () => {
    const res = await audit();
    expect(res.status).toBe(200);
    expect(res.body.next_cursor).toBeNull();
    expect(res.body.items.map((e: { action: string }) => e.action)).toEqual([
      "api_key.revoked",
      "workspace.updated",
      "member.removed",
      "api_key.created",
      "member.role_changed",
      "member.added",
      "workspace.created",
    ]);
    const byAction = Object.fromEntries(res.body.items.map((e: { action: string }) => [e.action, e]));
    expect(byAction["api_key.created"]).toEqual({
      id: expect.any(String),
      at: expect.any(String),
      actor: { type: "user", id: alice.id, email: alice.email },
      action: "api_key.created",
      resource: { type: "api_key", id: keyId },
      request_id: "req-create-key",
      ip: null,
      details: { name: "deployer", role: "admin", prefix: expect.stringMatching(/^weft_/), expires_at: null },
    });
    expect(byAction["member.removed"].actor).toEqual({ type: "api_key", id: keyId, name: "deployer" });
    expect(byAction["member.role_changed"].details).toEqual({ email: bob.email, from: "admin", to: "viewer" });
  });

  it("filters by action (or a kind of action), actor, resource and time, and pages with an opaque cursor", async () => {
    expect((await audit("?action=member.added")).body.items).toHaveLength(1);
    expect((await audit("?action=member.*")).body.items).toHaveLength(3);
    expect((await audit(`?actor_id=${keyId}`)).body.items.map((e: { action: string }) => e.action)).toEqual([
      "member.removed",
    ]);
    expect((await audit(`?resource_id=${bob.id}`)).body.items).toHaveLength(3);
    expect((await audit("?since=2999-01-01T00:00:00Z")).body.items).toHaveLength(0);
    expect((await audit("?until=2000-01-01T00:00:00Z")).body.items).toHaveLength(0);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await audit(`?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.items.map((e: { id: string }) => e.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual((await audit()).body.items.map((e: { id: string }) => e.id));
  });

  it("streams the log as NDJSON for export", async () => {
    const res = await t.app.request(`/api/workspaces/${ws}/audit?action=member.*`, {
      headers: { authorization: `Bearer ${alice.token}`, accept: "application/x-ndjson" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/x-ndjson");
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((e) => e.action)).toEqual(["member.removed", "member.role_changed", "member.added"]);
  });
});

describe("audit log (errors and security)", () => {
  it("refuses bad limits and cursors (400)", async () => {
    expect((await audit("?limit=0")).status).toBe(400);
    expect((await audit("?limit=501")).status).toBe(400);
    expect((await audit("?cursor=bm90LW91cnM")).status).toBe(400);
  });

  it("is for admins and owners of the workspace only", async () => {
    await call(t.app, "POST", `/api/workspaces/${ws}/members`, {
      token: alice.token,
      body: { email: bob.email, role: "editor" },
    });
    expect((await audit("", bob.token)).status).toBe(403);
    const stranger = await registerUser(t.app, "stranger");
    expect((await audit("", stranger.token)).status).toBe(404);
    // The NDJSON export answers the same: the role check comes first.
    const exported = (token: string, query = "") =>
      t.app.request(`/api/workspaces/${ws}/audit${query}`, {
        headers: { authorization: `Bearer ${token}`, accept: "application/x-ndjson" },
      });
    expect((await exported(bob.token)).status).toBe(403);
    expect((await exported(stranger.token)).status).toBe(404);
    expect((await exported(alice.token, "?limit=0")).status).toBe(400);
  });
});
