/**
 * Workspaces keep their resources apart: a member of two workspaces reaches each resource only through its own
 * workspace, an API key never through another's, and Idempotency-Keys are per workspace and actor.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { call, json, registerUser, setupApp, startUpstream, type TestContext } from "../../test/helpers.ts";

let t: TestContext;
let url: string;
beforeAll(async () => {
  t = await setupApp();
  url = (await startUpstream((_req, _body, res) => json(res, 200, { ok: true }))).url;
});

describe("cross-workspace isolation", () => {
  it("answers 404 for every resource type of another workspace, whoever asks", async () => {
    const owner = await registerUser(t.app, "two-teams");
    const [a, b] = await Promise.all(
      ["A", "B"].map(async (name) =>
        (await call(t.app, "POST", "/api/workspaces", { token: owner.token, body: { name } })).body.id as string
      ),
    );
    const inA = { token: owner.token, headers: { "weft-workspace": a } };
    const inB = { token: owner.token, headers: { "weft-workspace": b } };
    const wf = (await call(t.app, "POST", "/api/workflows", { ...inA, body: { name: "a's" } })).body.id;
    await call(t.app, "POST", `/api/workflows/${wf}/nodes`, {
      ...inA,
      body: { name: "n", type: "http_request", config: { url } },
    });
    const run =
      (await call(t.app, "POST", `/api/workflows/${wf}/execute`, { ...inA, body: { input: {} } })).body.run_id;
    const col = (await call(t.app, "POST", "/api/vectors/collections", { ...inA, body: { name: "c" } })).body.id;
    expect((await call(t.app, "POST", "/api/secrets", { ...inA, body: { name: "S", value: "v" } })).status).toBe(201);
    const keyB = (await call(t.app, "POST", `/api/workspaces/${b}/api-keys`, {
      token: owner.token,
      body: { name: "b", role: "owner" },
    })).body.key;

    const paths = [
      ["GET", `/api/workflows/${wf}`],
      ["GET", `/api/workflows/${wf}/nodes`],
      ["GET", `/api/workflows/${wf}/versions`],
      ["GET", `/api/workflows/${wf}/runs/${run}`],
      ["GET", `/api/workflows/${wf}/hook`],
      ["GET", `/api/workflows/${wf}/schedules`],
      ["GET", `/api/vectors/collections/${col}`],
      ["PUT", "/api/secrets/S"],
    ] as const;
    for (const [method, path] of paths) {
      const body = method === "PUT" ? { value: "w" } : undefined;
      expect((await call(t.app, method, path, { ...inA, body })).status, `${path} in A`).not.toBe(404);
      expect((await call(t.app, method, path, { ...inB, body })).status, `${path} in B`).toBe(404);
      expect((await call(t.app, method, path, { token: keyB, body })).status, `${path} with B's key`).toBe(404);
      const forged = await call(t.app, method, path, { token: keyB, body, headers: { "weft-workspace": a } });
      expect(forged.status, `${path} with B's key and A's header`).toBe(404);
    }
    // Lists hold only their own workspace's.
    expect((await call(t.app, "GET", "/api/workflows", inB)).body.items).toEqual([]);
    expect((await call(t.app, "GET", "/api/runs", inB)).body.items).toEqual([]);
    expect((await call(t.app, "GET", "/api/secrets", inB)).body.items).toEqual([]);
    expect((await call(t.app, "GET", "/api/vectors/collections", inB)).body.items).toEqual([]);
    expect((await call(t.app, "GET", "/api/runs", inA)).body.items.map((r: { id: string }) => r.id)).toEqual([run]);
  });

  it("keeps Idempotency-Keys per workspace and actor", async () => {
    const owner = await registerUser(t.app, "idem");
    const ws = (await call(t.app, "POST", "/api/workspaces", { token: owner.token, body: { name: "I" } })).body.id;
    const h = { "weft-workspace": ws, "idempotency-key": "deploy-42" };
    const wf = (await call(t.app, "POST", "/api/workflows", { token: owner.token, headers: h, body: { name: "i" } }))
      .body.id;
    await call(t.app, "POST", `/api/workflows/${wf}/nodes`, {
      token: owner.token,
      headers: h,
      body: { name: "n", type: "http_request", config: { url } },
    });
    const key = (await call(t.app, "POST", `/api/workspaces/${ws}/api-keys`, {
      token: owner.token,
      body: { name: "k", role: "operator" },
    })).body.key;
    const execute = (token: string) =>
      call(t.app, "POST", `/api/workflows/${wf}/execute`, { token, headers: h, body: { input: {} } });
    const first = await execute(owner.token);
    const again = await execute(owner.token);
    const byKey = await execute(key);
    expect(again.body.run_id).toBe(first.body.run_id);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(byKey.status).toBe(202);
    expect(byKey.body.run_id).not.toBe(first.body.run_id);
  });
});
