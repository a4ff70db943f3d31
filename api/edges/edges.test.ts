import { describe, expect, it } from "vitest";
import { call } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";
import { runSharedSecurityTests } from "../../test/security-suite.ts";

const t = useApiHarness();

async function graph(names: string[], token = t.alice.token) {
  const wf = (await call(t.app, "POST", "/api/workflows", { token, body: { name: "edges" } })).body.id as string;
  const ids: Record<string, string> = {};
  for (const name of names) {
    ids[name] = (await call(t.app, "POST", `/api/workflows/${wf}/nodes`, {
      token,
      body: { name, type: "http_request", config: { url: "https://x.io" } },
    })).body.id;
  }
  return { wf, ids };
}
const connect = (wf: string, body: unknown, token = t.alice.token) =>
  call(t.app, "POST", `/api/workflows/${wf}/edges`, { token, body });

describe("edges (happy)", () => {
  it("connects two nodes, with an optional condition; reads, lists and deletes", async () => {
    const { wf, ids } = await graph(["a", "b"]);
    const res = await connect(wf, {
      source_node_id: ids.a,
      target_node_id: ids.b,
      condition: "nodes.a.output.status = 200",
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      source_node_id: ids.a,
      target_node_id: ids.b,
      condition: "nodes.a.output.status = 200",
    });
    expect((await call(t.app, "GET", `/api/workflows/${wf}/edges/${res.body.id}`, { token: t.alice.token })).status)
      .toBe(
        200,
      );
    expect((await call(t.app, "GET", `/api/workflows/${wf}/edges`, { token: t.alice.token })).body.items).toHaveLength(
      1,
    );
    expect((await call(t.app, "DELETE", `/api/workflows/${wf}/edges/${res.body.id}`, { token: t.alice.token })).status)
      .toBe(204);
    expect((await call(t.app, "GET", `/api/workflows/${wf}/edges/${res.body.id}`, { token: t.alice.token })).status)
      .toBe(
        404,
      );
  });
});

describe("edges (errors)", () => {
  it("self-loops are 400, duplicates 409", async () => {
    const { wf, ids } = await graph(["a", "b"]);
    expect((await connect(wf, { source_node_id: ids.a, target_node_id: ids.a })).status).toBe(400);
    expect((await connect(wf, { source_node_id: ids.a, target_node_id: ids.b })).status).toBe(201);
    const dup = await connect(wf, { source_node_id: ids.a, target_node_id: ids.b });
    expect(dup.status).toBe(409);
  });

  it("both ends must belong to the workflow (400 naming the field)", async () => {
    const { wf, ids } = await graph(["a"]);
    const other = await graph(["x"]);
    const res = await connect(wf, { source_node_id: ids.a, target_node_id: other.ids.x });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe("target_node_id");
    expect((await connect(wf, { source_node_id: "nope", target_node_id: ids.a })).status).toBe(400);
  });

  it("a condition that does not parse is a 400", async () => {
    const { wf, ids } = await graph(["a", "b"]);
    const res = await connect(wf, { source_node_id: ids.a, target_node_id: ids.b, condition: "status = " });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe("condition");
  });
});

describe("edges (security)", () => {
  it("another user's edges answer 404; no token 401", async () => {
    const { wf, ids } = await graph(["a", "b"]);
    const edge = (await connect(wf, { source_node_id: ids.a, target_node_id: ids.b })).body.id;
    expect((await call(t.app, "GET", `/api/workflows/${wf}/edges`, { token: t.bob.token })).status).toBe(404);
    expect((await call(t.app, "GET", `/api/workflows/${wf}/edges/${edge}`, { token: t.bob.token })).status).toBe(404);
    expect((await call(t.app, "DELETE", `/api/workflows/${wf}/edges/${edge}`, { token: t.bob.token })).status).toBe(
      404,
    );
    expect((await connect(wf, { source_node_id: ids.b, target_node_id: ids.a }, t.bob.token)).status).toBe(404);
    expect((await call(t.app, "GET", `/api/workflows/${wf}/edges`)).status).toBe(401);
  });
});

describe("validate", () => {
  it("returns the topological order of a valid graph", async () => {
    const { wf, ids } = await graph(["a", "b", "c"]);
    await connect(wf, { source_node_id: ids.a, target_node_id: ids.b });
    await connect(wf, { source_node_id: ids.b, target_node_id: ids.c });
    const res = await call(t.app, "GET", `/api/workflows/${wf}/validate`, { token: t.alice.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ valid: true, errors: [], order: [ids.a, ids.b, ids.c], start_nodes: [ids.a] });
  });

  it("names the nodes on a cycle and the disconnected ones", async () => {
    const { wf, ids } = await graph(["a", "b", "c", "lonely"]);
    await connect(wf, { source_node_id: ids.a, target_node_id: ids.b });
    await connect(wf, { source_node_id: ids.b, target_node_id: ids.c });
    await connect(wf, { source_node_id: ids.c, target_node_id: ids.b });
    const res = await call(t.app, "GET", `/api/workflows/${wf}/validate`, { token: t.alice.token });
    expect(res.body.valid).toBe(false);
    const cycle = res.body.errors.find((e: { code: string }) => e.code === "CYCLE");
    expect(new Set(cycle.node_ids)).toEqual(new Set([ids.b, ids.c]));
    expect(cycle.message).toMatch(/b → c → b|c → b → c/);
    expect(res.body.errors.find((e: { code: string }) => e.code === "DISCONNECTED_NODE").node_ids).toEqual([
      ids.lonely,
    ]);
  });

  it("another user's workflow answers 404", async () => {
    const { wf } = await graph(["a"]);
    expect((await call(t.app, "GET", `/api/workflows/${wf}/validate`, { token: t.bob.token })).status).toBe(404);
  });
});

runSharedSecurityTests(
  t,
  "an edge",
  async (owner) => {
    const { workflowId, nodeIds } = await t.buildWorkflow(
      [{ name: "a", config: { url: "https://x.io" } }, { name: "b", config: { url: "https://x.io" } }],
      [],
      owner,
    );
    const edge = await connect(workflowId, { source_node_id: nodeIds.a, target_node_id: nodeIds.b }, owner.token);
    return { wf: workflowId, edge: edge.body.id as string, nodes: nodeIds };
  },
  [
    { method: "GET", path: ({ wf }) => `/api/workflows/${wf}/edges` },
    {
      method: "POST",
      path: ({ wf }) => `/api/workflows/${wf}/edges`,
      // Any body: the owner check answers before the body's node ids are looked at.
      body: { source_node_id: crypto.randomUUID(), target_node_id: crypto.randomUUID() },
    },
    { method: "GET", path: ({ wf, edge }) => `/api/workflows/${wf}/edges/${edge}` },
    { method: "DELETE", path: ({ wf, edge }) => `/api/workflows/${wf}/edges/${edge}` },
  ],
);
