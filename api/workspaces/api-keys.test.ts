/**
 * API keys: created once and shown once, used like a token, acting only in their workspace with their role,
 * expiring, and revoked at once on every API process (two apps here, each with its own pool and listener).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { call, registerUser, setupApp, type TestContext } from "../../test/helpers.ts";

let a: TestContext, b: TestContext;
type User = Awaited<ReturnType<typeof registerUser>>;
let alice: User, bob: User;
let ws: string;
beforeAll(async () => {
  [a, b] = await Promise.all([setupApp(), setupApp()]);
  [alice, bob] = await Promise.all([registerUser(a.app, "alice"), registerUser(a.app, "bob")]);
  ws = (await call(a.app, "POST", "/api/workspaces", { token: alice.token, body: { name: "Team" } })).body.id;
  await call(a.app, "POST", `/api/workspaces/${ws}/members`, {
    token: alice.token,
    body: { email: bob.email, role: "editor" },
  });
});

const createKey = (token: string, body: Record<string, unknown>, workspace = ws) =>
  call(a.app, "POST", `/api/workspaces/${workspace}/api-keys`, { token, body });

/** Until `check` holds (another process hears of a change by NOTIFY, within milliseconds). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("never happened");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("API keys (happy)", () => {
  it("creates a key shown once, stores only its hash, and lists it without the key", async () => {
    const res = await createKey(alice.token, { name: "ci", role: "operator" });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      name: "ci",
      role: "operator",
      prefix: res.body.key.slice(0, 13),
      key: expect.stringMatching(/^weft_[A-Za-z0-9_-]{43}$/),
      created_at: expect.any(String),
      expires_at: null,
    });
    const [row] = await a.sql`SELECT key_hash FROM api_keys WHERE id = ${res.body.id}`;
    expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(await a.sql`SELECT * FROM api_keys WHERE id = ${res.body.id}`)).not.toContain(res.body.key);
    const listed = await call(a.app, "GET", `/api/workspaces/${ws}/api-keys`, { token: alice.token });
    const item = listed.body.items.find((k: { id: string }) => k.id === res.body.id);
    expect(item).toEqual({ ...res.body, key: undefined, last_used_at: null });
    expect(JSON.stringify(listed.body)).not.toContain(res.body.key);
  });

  it("authenticates like a token, in its own workspace, and records when it was last used", async () => {
    const { body: key } = await createKey(alice.token, { name: "reader", role: "viewer" });
    const got = await call(b.app, "GET", `/api/workspaces/${ws}`, { token: key.key });
    expect(got.status).toBe(200);
    expect(got.body).toEqual({ id: ws, name: "Team", role: "viewer", personal: false });
    const mine = await call(b.app, "GET", "/api/workspaces", { token: key.key });
    expect(mine.body).toMatchObject({ total: 1, items: [{ id: ws, role: "viewer" }] });
    const [row] = await a.sql`SELECT last_used_at FROM api_keys WHERE id = ${key.id}`;
    expect(row.last_used_at).not.toBeNull();
  });
});

describe("API keys (errors)", () => {
  it("refuses a role above the creator's (403) and an expiry in the past (400)", async () => {
    const admin = await createKey(bob.token, { name: "too much", role: "admin" });
    expect(admin.status).toBe(403); // Bob is an editor: he cannot create keys at all
    await call(a.app, "PATCH", `/api/workspaces/${ws}/members/${bob.id}`, {
      token: alice.token,
      body: { role: "admin" },
    });
    const owner = await createKey(bob.token, { name: "too much", role: "owner" });
    expect(owner.status).toBe(403);
    expect(owner.body.error.message).toContain("cannot exceed");
    expect((await createKey(bob.token, { name: "ok", role: "admin" })).status).toBe(201);
    const past = await createKey(alice.token, { name: "old", role: "viewer", expires_at: "2020-01-01T00:00:00Z" });
    expect(past.status).toBe(400);
    expect((await createKey(alice.token, { name: "x", role: "god" })).status).toBe(400);
    await call(a.app, "PATCH", `/api/workspaces/${ws}/members/${bob.id}`, {
      token: alice.token,
      body: { role: "editor" },
    });
  });

  it("stops working when it expires", async () => {
    const expires = new Date(Date.now() + 1500).toISOString();
    const { body: key } = await createKey(alice.token, { name: "short", role: "viewer", expires_at: expires });
    expect((await call(a.app, "GET", `/api/workspaces/${ws}`, { token: key.key })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1600));
    const res = await call(a.app, "GET", `/api/workspaces/${ws}`, { token: key.key });
    expect(res.status).toBe(401);
  });
});

describe("API keys (security)", () => {
  it("is revoked at once on every API process", async () => {
    const { body: key } = await createKey(alice.token, { name: "svc", role: "viewer" });
    // Both processes have it cached.
    expect((await call(a.app, "GET", `/api/workspaces/${ws}`, { token: key.key })).status).toBe(200);
    expect((await call(b.app, "GET", `/api/workspaces/${ws}`, { token: key.key })).status).toBe(200);
    const revoked = await call(a.app, "DELETE", `/api/workspaces/${ws}/api-keys/${key.id}`, { token: alice.token });
    expect(revoked.status).toBe(204);
    expect((await call(a.app, "GET", `/api/workspaces/${ws}`, { token: key.key })).status).toBe(401);
    await eventually(async () =>
      (await call(b.app, "GET", `/api/workspaces/${ws}`, { token: key.key })).status === 401
    );
    const listed = await call(a.app, "GET", `/api/workspaces/${ws}/api-keys`, { token: alice.token });
    expect(listed.body.items.map((k: { id: string }) => k.id)).not.toContain(key.id);
    expect((await call(a.app, "DELETE", `/api/workspaces/${ws}/api-keys/${key.id}`, { token: alice.token })).status)
      .toBe(404);
  });

  it("acts only in its workspace, only with its role, and not on account routes", async () => {
    const { body: key } = await createKey(alice.token, { name: "viewer", role: "viewer" });
    const token = key.key;
    // Another workspace, by path or by header: 404.
    expect((await call(a.app, "GET", `/api/workspaces/${alice.id}`, { token })).status).toBe(404);
    const other = await call(a.app, "GET", `/api/workspaces/${alice.id}/members`, {
      token,
      headers: { "weft-workspace": ws },
    });
    expect(other.status).toBe(404);
    // Its role: a viewer key may not manage keys or members.
    expect((await call(a.app, "GET", `/api/workspaces/${ws}/api-keys`, { token })).status).toBe(403);
    expect((await createKey(token, { name: "escalate", role: "viewer" })).status).toBe(403);
    // Not a person: no account routes, no new workspaces.
    expect((await call(a.app, "GET", "/api/auth/me", { token })).status).toBe(403);
    expect((await call(a.app, "POST", "/api/workspaces", { token, body: { name: "x" } })).status).toBe(403);
    // A made-up or mangled key is a 401.
    expect(
      (await call(a.app, "GET", `/api/workspaces/${ws}`, {
        token: token.slice(0, -1) + (token.endsWith("A") ? "B" : "A"),
      })).status,
    ).toBe(401);
    expect((await call(a.app, "GET", `/api/workspaces/${ws}`, { token: "weft_" })).status).toBe(401);
  });

  it("a membership change reaches every API process", async () => {
    const carol = await registerUser(a.app, "carol");
    await call(a.app, "POST", `/api/workspaces/${ws}/members`, {
      token: alice.token,
      body: { email: carol.email, role: "editor" },
    });
    // Process B caches Carol's role, then process A takes it away.
    expect((await call(b.app, "GET", `/api/workspaces/${ws}`, { token: carol.token })).body.role).toBe("editor");
    await call(a.app, "PATCH", `/api/workspaces/${ws}/members/${carol.id}`, {
      token: alice.token,
      body: { role: "viewer" },
    });
    await eventually(async () =>
      (await call(b.app, "GET", `/api/workspaces/${ws}`, { token: carol.token })).body.role === "viewer"
    );
    await call(a.app, "DELETE", `/api/workspaces/${ws}/members/${carol.id}`, { token: alice.token });
    await eventually(async () =>
      (await call(b.app, "GET", `/api/workspaces/${ws}`, { token: carol.token })).status === 404
    );
  });

  it("outlives its creator's membership until revoked", async () => {
    await call(a.app, "PATCH", `/api/workspaces/${ws}/members/${bob.id}`, {
      token: alice.token,
      body: { role: "admin" },
    });
    const { body: key } = await createKey(bob.token, { name: "bob's", role: "viewer" });
    await call(a.app, "DELETE", `/api/workspaces/${ws}/members/${bob.id}`, { token: alice.token });
    expect((await call(a.app, "GET", `/api/workspaces/${ws}`, { token: bob.token })).status).toBe(404);
    expect((await call(a.app, "GET", `/api/workspaces/${ws}`, { token: key.key })).status).toBe(200);
  });
});
