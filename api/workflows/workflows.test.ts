import { describe, expect, it } from "vitest";
import { call, registerUser } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";
import { runSharedSecurityTests } from "../../test/security-suite.ts";

const t = useApiHarness();

const create = (token: string, body: unknown) => call(t.app, "POST", "/api/workflows", { token, body });

describe("workflows (happy)", () => {
  it("creates, reads, updates (new version) and soft-deletes a workflow", async () => {
    const created = await create(t.alice.token, {
      name: "RAG pipeline",
      description: "d",
      tags: ["ai"],
      metadata: { team: "x" },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: "RAG pipeline",
      description: "d",
      tags: ["ai"],
      metadata: { team: "x" },
      version: 1,
      max_parallel: 16,
    });
    const id = created.body.id;

    const got = await call(t.app, "GET", `/api/workflows/${id}`, { token: t.alice.token });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id, nodes: [], edges: [] });

    const updated = await call(t.app, "PUT", `/api/workflows/${id}`, {
      token: t.alice.token,
      body: { name: "renamed", tags: [] },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: "renamed", tags: [], description: "d", version: 2 });

    expect((await call(t.app, "DELETE", `/api/workflows/${id}`, { token: t.alice.token })).status).toBe(204);
    expect((await call(t.app, "GET", `/api/workflows/${id}`, { token: t.alice.token })).status).toBe(404);
    const [row] = await t.sql`SELECT deleted_at FROM workflows WHERE id = ${id}`;
    expect(row.deleted_at).not.toBeNull();
  });

  it("lists the user's own workflows newest first, paginated", async () => {
    const user = await registerUser(t.app, "lister");
    for (const name of ["one", "two", "three"]) await create(user.token, { name });
    const page1 = await call(t.app, "GET", "/api/workflows?limit=2", { token: user.token });
    expect(page1.status).toBe(200);
    expect(page1.body.total).toBe(3);
    expect(page1.body.items.map((w: { name: string }) => w.name)).toEqual(["three", "two"]);
    const page2 = await call(t.app, "GET", "/api/workflows?limit=2&offset=2", { token: user.token });
    expect(page2.body.items.map((w: { name: string }) => w.name)).toEqual(["one"]);
  });
});

describe("workflow read cache", () => {
  it("serves a write made by this process at once, and one made elsewhere after PostgreSQL's NOTIFY", async () => {
    const { body: wf } = await create(t.alice.token, { name: "cached" });
    const get = () => call(t.app, "GET", `/api/workflows/${wf.id}`, { token: t.alice.token });
    await get();
    await get(); // now served from the cache
    await call(t.app, "PUT", `/api/workflows/${wf.id}`, { token: t.alice.token, body: { name: "renamed here" } });
    expect((await get()).body.name).toBe("renamed here");
    const node = await call(t.app, "POST", `/api/workflows/${wf.id}/nodes`, {
      token: t.alice.token,
      body: { name: "n", type: "http_request", config: { url: "https://x.io" } },
    });
    expect((await get()).body.nodes.map((n: { id: string }) => n.id)).toEqual([node.body.id]);
    // Another process (here: plain SQL on another connection) changes the workflow.
    await t.sql`UPDATE workflows SET name = 'renamed elsewhere' WHERE id = ${wf.id}`;
    let name = "";
    for (let i = 0; i < 50 && name !== "renamed elsewhere"; i++) {
      name = (await get()).body.name;
      if (name !== "renamed elsewhere") await new Promise((r) => setTimeout(r, 20));
    }
    expect(name).toBe("renamed elsewhere");
    await t.sql`DELETE FROM nodes WHERE workflow_id = ${wf.id}`;
    await new Promise((r) => setTimeout(r, 200));
    expect((await get()).body.nodes).toEqual([]);
    // A cached workflow is still another user's 404.
    expect((await call(t.app, "GET", `/api/workflows/${wf.id}`, { token: t.bob.token })).status).toBe(404);
  });
});

describe("workflows (errors)", () => {
  it("400 naming the fields for wrong types, missing and unknown fields", async () => {
    const res = await create(t.alice.token, { name: 42, tags: "nope", owner_id: "x" });
    expect(res.status).toBe(400);
    const fields = res.body.error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(["name", "tags", "owner_id"]));
    expect((await create(t.alice.token, {})).status).toBe(400);
  });

  it("400 for malformed JSON, a JSON array, and bad pagination", async () => {
    expect((await call(t.app, "POST", "/api/workflows", { token: t.alice.token, rawBody: "{nope" })).status).toBe(400);
    expect((await call(t.app, "POST", "/api/workflows", { token: t.alice.token, rawBody: "[]" })).status).toBe(400);
    expect((await call(t.app, "GET", "/api/workflows?limit=0", { token: t.alice.token })).status).toBe(400);
    expect((await call(t.app, "GET", "/api/workflows?limit=abc", { token: t.alice.token })).status).toBe(400);
  });

  it("413 for a body over 1 MB, 404 JSON for an unknown route", async () => {
    const big = await call(t.app, "POST", "/api/workflows", {
      token: t.alice.token,
      body: { name: "x", description: "a".repeat(1_100_000) },
    });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe("PAYLOAD_TOO_LARGE");
    const missing = await call(t.app, "GET", "/api/nothing-here", { token: t.alice.token });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("NOT_FOUND");
  });

  it("rejects values PostgreSQL cannot store as 400, not 500", async () => {
    const res = await create(t.alice.token, { name: "nul \u0000 byte" });
    expect(res.status).toBe(400);
  });
});

describe("workflows (security)", () => {
  it("401 without a token on every workflow route", async () => {
    for (
      const [method, path] of [["GET", "/api/workflows"], ["POST", "/api/workflows"], [
        "GET",
        `/api/workflows/${crypto.randomUUID()}`,
      ]]
    ) {
      expect((await call(t.app, method, path, { body: method === "POST" ? { name: "x" } : undefined })).status).toBe(
        401,
      );
    }
  });

  it("another user's workflow answers 404 to read, update, delete and list", async () => {
    const { body: wf } = await create(t.alice.token, { name: "private" });
    expect((await call(t.app, "GET", `/api/workflows/${wf.id}`, { token: t.bob.token })).status).toBe(404);
    expect(
      (await call(t.app, "PUT", `/api/workflows/${wf.id}`, { token: t.bob.token, body: { name: "stolen" } })).status,
    )
      .toBe(404);
    expect((await call(t.app, "DELETE", `/api/workflows/${wf.id}`, { token: t.bob.token })).status).toBe(404);
    const list = await call(t.app, "GET", "/api/workflows?limit=100", { token: t.bob.token });
    expect(list.body.items.find((w: { id: string }) => w.id === wf.id)).toBeUndefined();
    expect((await call(t.app, "GET", `/api/workflows/${wf.id}`, { token: t.alice.token })).body.name).toBe("private");
  });

  it("a malformed id answers 404", async () => {
    expect((await call(t.app, "GET", "/api/workflows/not-a-uuid", { token: t.alice.token })).status).toBe(404);
  });
});

runSharedSecurityTests(t, "a workflow", (owner) => t.createWorkflow({ name: "owned" }, owner), [
  { method: "GET", path: (wf) => `/api/workflows/${wf}` },
  { method: "PUT", path: (wf) => `/api/workflows/${wf}`, body: { name: "stolen" } },
  { method: "DELETE", path: (wf) => `/api/workflows/${wf}` },
  { method: "GET", path: (wf) => `/api/workflows/${wf}/validate` },
  { method: "GET", path: (wf) => `/api/workflows/${wf}/versions` },
  { method: "GET", path: (wf) => `/api/workflows/${wf}/versions/1` },
]);
