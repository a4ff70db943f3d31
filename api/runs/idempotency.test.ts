/** Idempotency-Key on execute, and the versions runs executed. */
import { describe, expect, it } from "vitest";
import { buildWorkflow, call, json, waitForRun } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";

const t = useApiHarness({ upstream: (_req, _body, res) => json(res, 200, { ok: true }) });

const execute = (wf: string, key: string | undefined, token = t.alice.token) =>
  call(t.app, "POST", `/api/workflows/${wf}/execute`, {
    token,
    body: { input: {} },
    headers: key ? { "idempotency-key": key } : {},
  });

describe("Idempotency-Key", () => {
  it("returns the same run for the same key, even for concurrent requests", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [{ name: "a", config: { url: t.upstream.url } }]);
    const key = `k-${crypto.randomUUID()}`;
    const results = await Promise.all([execute(workflowId, key), execute(workflowId, key), execute(workflowId, key)]);
    expect(results.map((r) => r.status)).toEqual([202, 202, 202]);
    expect(new Set(results.map((r) => r.body.run_id)).size).toBe(1);
    expect(results.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(2);
    await waitForRun(t.app, t.alice.token, workflowId, results[0].body.run_id);
    const later = await execute(workflowId, key);
    expect(later.body.run_id).toBe(results[0].body.run_id);
    expect(later.body.status).toBe("succeeded");
    const other = await execute(workflowId, `k-${crypto.randomUUID()}`);
    expect(other.body.run_id).not.toBe(results[0].body.run_id);
    const list = await call(t.app, "GET", `/api/workflows/${workflowId}/runs`, { token: t.alice.token });
    expect(list.body.total).toBe(2);
  });

  it("keys belong to their user; reusing one for another workflow is a 409; bad keys are 400", async () => {
    const a = await buildWorkflow(t.app, t.alice.token, [{ name: "a", config: { url: t.upstream.url } }]);
    const b = await buildWorkflow(t.app, t.alice.token, [{ name: "b", config: { url: t.upstream.url } }]);
    const bobs = await buildWorkflow(t.app, t.bob.token, [{ name: "c", config: { url: t.upstream.url } }]);
    const key = `shared-${crypto.randomUUID()}`;
    const first = await execute(a.workflowId, key);
    expect((await execute(b.workflowId, key)).status).toBe(409);
    const bobRun = await execute(bobs.workflowId, key, t.bob.token);
    expect(bobRun.status).toBe(202);
    expect(bobRun.body.run_id).not.toBe(first.body.run_id);
    expect((await execute(a.workflowId, "has space")).status).toBe(400);
    expect((await execute(a.workflowId, "x".repeat(300))).status).toBe(400);
  });

  it("a failed start (invalid graph) does not consume the key", async () => {
    const wf = (await call(t.app, "POST", "/api/workflows", { token: t.alice.token, body: { name: "empty" } })).body.id;
    const key = `k-${crypto.randomUUID()}`;
    expect((await execute(wf, key)).status).toBe(400);
    await call(t.app, "POST", `/api/workflows/${wf}/nodes`, {
      token: t.alice.token,
      body: { name: "n", type: "http_request", config: { url: t.upstream.url } },
    });
    const ok = await execute(wf, key);
    expect(ok.status).toBe(202);
    expect(ok.headers.get("idempotent-replayed")).toBeNull();
  });
});

describe("versions", () => {
  it("lists the immutable versions runs executed, with hashes, and serves each snapshot", async () => {
    const { workflowId, nodeIds } = await buildWorkflow(t.app, t.alice.token, [{
      name: "a",
      config: { url: `${t.upstream.url}/v1` },
    }]);
    const r1 = (await execute(workflowId, undefined)).body;
    await call(t.app, "PUT", `/api/workflows/${workflowId}/nodes/${nodeIds.a}`, {
      token: t.alice.token,
      body: { config: { url: `${t.upstream.url}/v2` } },
    });
    const r2 = (await execute(workflowId, undefined)).body;
    await execute(workflowId, undefined);
    const res = await call(t.app, "GET", `/api/workflows/${workflowId}/versions`, { token: t.alice.token });
    expect(res.status).toBe(200);
    expect(
      res.body.items.map((v: { version: number; hash: string; run_count: number }) => [v.version, v.hash, v.run_count]),
    ).toEqual([
      [r2.version, r2.version_hash, 2],
      [r1.version, r1.version_hash, 1],
    ]);
    expect(res.body.current).toEqual({ version: r2.version, hash: r2.version_hash });
    const v1 = await call(t.app, "GET", `/api/workflows/${workflowId}/versions/${r1.version}`, {
      token: t.alice.token,
    });
    expect(v1.body.snapshot.nodes[0].config.url).toBe(`${t.upstream.url}/v1`);
    expect((await call(t.app, "GET", `/api/workflows/${workflowId}/versions/999`, { token: t.alice.token })).status)
      .toBe(
        404,
      );
    expect((await call(t.app, "GET", `/api/workflows/${workflowId}/versions`, { token: t.bob.token })).status).toBe(
      404,
    );
    const run = await call(t.app, "GET", `/api/workflows/${workflowId}/runs/${r1.run_id}`, { token: t.alice.token });
    expect([run.body.version, run.body.version_hash]).toEqual([r1.version, r1.version_hash]);
  });
});
