/** Re-running from a failure, reusing successful outputs, on the pinned or the latest version. */
import { describe, expect, it } from "vitest";
import { call, json, waitForRun } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";

const broken = new Set<string>();

const t = useApiHarness({
  upstream: (req, _body, res) => {
    const url = new URL(req.url!, "http://x");
    if (broken.has(url.pathname)) return json(res, 500, { error: "down" });
    json(res, 200, { path: url.pathname });
  },
});

async function diamond(prefix: string) {
  const wf = (await call(t.app, "POST", "/api/workflows", {
    token: t.alice.token,
    body: { name: "rerun", on_failure: "continue" },
  })).body.id;
  const ids: Record<string, string> = {};
  for (const name of ["A", "B", "C", "D"]) {
    ids[name] = (await call(t.app, "POST", `/api/workflows/${wf}/nodes`, {
      token: t.alice.token,
      body: {
        name,
        type: "http_request",
        config: { url: `${t.upstream.url}/${prefix}/${name}`, retry: { max_attempts: 1 } },
      },
    })).body.id;
  }
  for (const [a, b] of [["A", "B"], ["B", "C"], ["A", "D"]]) {
    await call(t.app, "POST", `/api/workflows/${wf}/edges`, {
      token: t.alice.token,
      body: { source_node_id: ids[a], target_node_id: ids[b] },
    });
  }
  return { wf, ids };
}
const hits = (path: string) => t.upstream.requests.filter((r) => r.url === path).length;

describe("retry (re-run from failure)", () => {
  it("reuses what succeeded and executes only the failed node and what follows it", async () => {
    const { wf } = await diamond("p1");
    broken.add("/p1/B");
    const first =
      (await call(t.app, "POST", `/api/workflows/${wf}/execute`, { token: t.alice.token, body: { input: { k: 1 } } }))
        .body;
    const failed = await waitForRun(t.app, t.alice.token, wf, first.run_id);
    expect(failed.status).toBe("failed");
    broken.delete("/p1/B");

    const retry = await call(t.app, "POST", `/api/workflows/${wf}/runs/${first.run_id}/retry`, {
      token: t.alice.token,
    });
    expect(retry.status).toBe(202);
    expect(retry.body.retry_of).toBe(first.run_id);
    expect(retry.body.reused.sort()).toEqual(["A", "D"]);
    expect(retry.body.version_hash).toBe(first.version_hash);
    const run = await waitForRun(t.app, t.alice.token, wf, retry.body.run_id);
    expect(run.status).toBe("succeeded");
    expect(run.trigger).toBe("retry");
    expect(run.input).toEqual({ k: 1 });
    const status = Object.fromEntries(
      run.node_executions.map((n: { node_name: string; status: string }) => [n.node_name, n.status]),
    );
    expect(status).toEqual({ A: "reused", D: "reused", B: "succeeded", C: "succeeded" });
    // A and D were called once in all, by the first run; B twice (failed, then fixed); C once.
    expect([hits("/p1/A"), hits("/p1/D"), hits("/p1/B"), hits("/p1/C")]).toEqual([1, 1, 2, 1]);
    expect(run.output.C.body.path).toBe("/p1/C");
    expect(run.output.D.body.path).toBe("/p1/D");
  });

  it("on the latest version, re-runs a fixed node with its new config", async () => {
    const { wf, ids } = await diamond("p2");
    broken.add("/p2/B");
    const first =
      (await call(t.app, "POST", `/api/workflows/${wf}/execute`, { token: t.alice.token, body: { input: {} } })).body;
    await waitForRun(t.app, t.alice.token, wf, first.run_id);
    await call(t.app, "PUT", `/api/workflows/${wf}/nodes/${ids.B}`, {
      token: t.alice.token,
      body: { config: { url: `${t.upstream.url}/p2/B-fixed`, retry: { max_attempts: 1 } } },
    });
    const pinned = await call(t.app, "POST", `/api/workflows/${wf}/runs/${first.run_id}/retry`, {
      token: t.alice.token,
      body: {},
    });
    expect((await waitForRun(t.app, t.alice.token, wf, pinned.body.run_id)).status).toBe("failed"); // old URL still broken
    const latest = await call(t.app, "POST", `/api/workflows/${wf}/runs/${first.run_id}/retry`, {
      token: t.alice.token,
      body: { version: "latest" },
    });
    expect(latest.status).toBe(202);
    expect(latest.body.version_hash).not.toBe(first.version_hash);
    expect(latest.body.reused.sort()).toEqual(["A", "D"]);
    const run = await waitForRun(t.app, t.alice.token, wf, latest.body.run_id);
    expect(run.status).toBe("succeeded");
    expect(hits("/p2/B-fixed")).toBe(1);
    expect(hits("/p2/A")).toBe(1);
  });

  it("refuses a run that has not failed (409), another user's run (404), and unknown fields (400)", async () => {
    const { wf } = await diamond("p3");
    const ok =
      (await call(t.app, "POST", `/api/workflows/${wf}/execute`, { token: t.alice.token, body: { input: {} } })).body;
    await waitForRun(t.app, t.alice.token, wf, ok.run_id);
    expect((await call(t.app, "POST", `/api/workflows/${wf}/runs/${ok.run_id}/retry`, { token: t.alice.token })).status)
      .toBe(409);
    expect((await call(t.app, "POST", `/api/workflows/${wf}/runs/${ok.run_id}/retry`, { token: t.bob.token })).status)
      .toBe(404);
    expect(
      (await call(t.app, "POST", `/api/workflows/${wf}/runs/${ok.run_id}/retry`, {
        token: t.alice.token,
        body: { version: "v9" },
      })).status,
    )
      .toBe(400);
  });
});
