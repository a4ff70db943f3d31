import { describe, expect, it } from "vitest";
import { call } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";
import { runSharedSecurityTests } from "../../test/security-suite.ts";

const t = useApiHarness();

const newWorkflow = async (token = t.alice.token) =>
  (await call(t.app, "POST", "/api/workflows", { token, body: { name: "nodes" } })).body.id as string;
const addNode = (wf: string, body: unknown, token = t.alice.token) =>
  call(t.app, "POST", `/api/workflows/${wf}/nodes`, { token, body });
const fetchNode = {
  name: "fetch",
  type: "http_request",
  config: { url: "https://api.example.com/{{input.id}}" },
  position_x: 10,
  position_y: 20,
};

describe("nodes (happy)", () => {
  it("creates a node with defaults applied, reads, lists, updates and deletes it", async () => {
    const wf = await newWorkflow();
    const created = await addNode(wf, fetchNode);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "fetch", type: "http_request", position_x: 10, position_y: 20 });
    expect(created.body.config).toEqual({
      method: "GET",
      url: "https://api.example.com/{{input.id}}",
      verify_ssl: true,
    });
    const id = created.body.id;

    expect((await call(t.app, "GET", `/api/workflows/${wf}/nodes/${id}`, { token: t.alice.token })).body.name).toBe(
      "fetch",
    );
    const list = await call(t.app, "GET", `/api/workflows/${wf}/nodes`, { token: t.alice.token });
    expect(list.body.items.map((n: { id: string }) => n.id)).toEqual([id]);

    const updated = await call(t.app, "PUT", `/api/workflows/${wf}/nodes/${id}`, {
      token: t.alice.token,
      body: { name: "fetch2", config: { method: "POST", url: "https://x.io", body: { a: "{{input.a}}" } } },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: "fetch2", config: { method: "POST" }, position_x: 10 });

    const wfAfter = await call(t.app, "GET", `/api/workflows/${wf}`, { token: t.alice.token });
    expect(wfAfter.body.version).toBe(3); // created 1, +node, +update

    expect((await call(t.app, "DELETE", `/api/workflows/${wf}/nodes/${id}`, { token: t.alice.token })).status).toBe(
      204,
    );
    expect((await call(t.app, "GET", `/api/workflows/${wf}/nodes/${id}`, { token: t.alice.token })).status).toBe(404);
  });

  it("deleting a node removes its edges", async () => {
    const wf = await newWorkflow();
    const a = (await addNode(wf, { ...fetchNode, name: "a" })).body.id;
    const b = (await addNode(wf, { ...fetchNode, name: "b" })).body.id;
    await call(t.app, "POST", `/api/workflows/${wf}/edges`, {
      token: t.alice.token,
      body: { source_node_id: a, target_node_id: b },
    });
    await call(t.app, "DELETE", `/api/workflows/${wf}/nodes/${a}`, { token: t.alice.token });
    const edges = await call(t.app, "GET", `/api/workflows/${wf}/edges`, { token: t.alice.token });
    expect(edges.body.items).toEqual([]);
  });
});

describe("nodes (errors)", () => {
  it("an unknown type is a 400 that lists the known types", async () => {
    const wf = await newWorkflow();
    const res = await addNode(wf, { ...fetchNode, type: "teleport" });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("UNKNOWN_NODE_TYPE");
    expect(res.body.error.message).toContain("http_request");
    expect(res.body.error.details.known_types).toContain("http_request");
  });

  it("a config that does not fit the type is a 400 naming the config fields", async () => {
    const wf = await newWorkflow();
    const res = await addNode(wf, { ...fetchNode, config: { method: "FETCH", timeout_ms: -1, surprise: 1 } });
    expect(res.status).toBe(400);
    const fields = res.body.error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(["config.method", "config.url", "config.timeout_ms"]));
    expect(res.body.error.message).toContain("config.url");
  });

  it("a non_retryable_error_codes entry no node can fail with is a 400 naming the code", async () => {
    const wf = await newWorkflow();
    const retry = { non_retryable_error_codes: ["HTTP_404", "Timeout", "TimedOut"] };
    const res = await addNode(wf, { ...fetchNode, config: { ...fetchNode.config, retry } });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe("config.retry.non_retryable_error_codes.2");
    expect(res.body.error.details[0].message).toContain('"TimedOut"');
    const known = { non_retryable_error_codes: ["HTTP_404", "Timeout", "InvalidConfig"] };
    expect((await addNode(wf, { ...fetchNode, config: { ...fetchNode.config, retry: known } })).status).toBe(201);
  });

  it("a template that does not parse is a 400 naming where it is", async () => {
    const wf = await newWorkflow();
    const res = await addNode(wf, { ...fetchNode, config: { url: "https://x.io/{{ input. }}" } });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe("config.url");
  });

  it("names must be template-safe identifiers and unique within the workflow (409)", async () => {
    const wf = await newWorkflow();
    expect((await addNode(wf, { ...fetchNode, name: "has space" })).status).toBe(400);
    expect((await addNode(wf, { ...fetchNode, name: "9lives" })).status).toBe(400);
    expect((await addNode(wf, fetchNode)).status).toBe(201);
    const dup = await addNode(wf, fetchNode);
    expect(dup.status).toBe(409);
    expect(dup.body.error.message).toContain("fetch");
    const other = (await addNode(wf, { ...fetchNode, name: "other" })).body.id;
    const rename = await call(t.app, "PUT", `/api/workflows/${wf}/nodes/${other}`, {
      token: t.alice.token,
      body: { name: "fetch" },
    });
    expect(rename.status).toBe(409);
  });

  it("changing the type re-validates the stored config", async () => {
    const wf = await newWorkflow();
    const id = (await addNode(wf, fetchNode)).body.id;
    const res = await call(t.app, "PUT", `/api/workflows/${wf}/nodes/${id}`, {
      token: t.alice.token,
      body: { type: "nope" },
    });
    expect(res.status).toBe(400);
  });
});

describe("nodes (security)", () => {
  it("another user's workflow and nodes answer 404; no token 401", async () => {
    const wf = await newWorkflow();
    const id = (await addNode(wf, fetchNode)).body.id;
    expect((await addNode(wf, { ...fetchNode, name: "evil" }, t.bob.token)).status).toBe(404);
    expect((await call(t.app, "GET", `/api/workflows/${wf}/nodes`, { token: t.bob.token })).status).toBe(404);
    expect((await call(t.app, "GET", `/api/workflows/${wf}/nodes/${id}`, { token: t.bob.token })).status).toBe(404);
    expect(
      (await call(t.app, "PUT", `/api/workflows/${wf}/nodes/${id}`, { token: t.bob.token, body: { name: "x" } }))
        .status,
    ).toBe(404);
    expect((await call(t.app, "DELETE", `/api/workflows/${wf}/nodes/${id}`, { token: t.bob.token })).status).toBe(404);
    expect((await call(t.app, "GET", `/api/workflows/${wf}/nodes`)).status).toBe(401);
    // A node id from another workflow of the same user is not found under this one.
    const wf2 = await newWorkflow();
    expect((await call(t.app, "GET", `/api/workflows/${wf2}/nodes/${id}`, { token: t.alice.token })).status).toBe(404);
  });
});

runSharedSecurityTests(
  t,
  "a node",
  async (owner) => {
    const { workflowId, nodeIds } = await t.buildWorkflow([{ name: "a", config: { url: "https://x.io" } }], [], owner);
    return { wf: workflowId, node: nodeIds.a };
  },
  [
    { method: "GET", path: ({ wf }) => `/api/workflows/${wf}/nodes` },
    { method: "POST", path: ({ wf }) => `/api/workflows/${wf}/nodes`, body: fetchNode },
    { method: "GET", path: ({ wf, node }) => `/api/workflows/${wf}/nodes/${node}` },
    { method: "PUT", path: ({ wf, node }) => `/api/workflows/${wf}/nodes/${node}`, body: { name: "x" } },
    { method: "DELETE", path: ({ wf, node }) => `/api/workflows/${wf}/nodes/${node}` },
  ],
);
