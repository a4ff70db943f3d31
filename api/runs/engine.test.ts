/** The engine's semantics through the API: parallelism, conditions, skipping, transforms, failure policy, cancel. */
import { describe, expect, it } from "vitest";
import { call, json, temporalFinalStatus, waitForRun } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";

const hits = new Map<string, number>();

const t = useApiHarness({
  upstream: (req, _body, res) => {
    const url = new URL(req.url!, "http://x");
    const ms = Number(url.searchParams.get("ms") ?? 0);
    const answer = () => {
      if (url.pathname === "/missing") return json(res, 404, { error: "nope" });
      // /flaky?key=k&fail=n: the first n requests for k answer 503; /limited?key=k: the first answers 429.
      const key = url.searchParams.get("key") ?? "";
      const seen = (hits.get(url.pathname + key) ?? 0) + 1;
      hits.set(url.pathname + key, seen);
      if (url.pathname === "/flaky" && seen <= Number(url.searchParams.get("fail"))) {
        return json(res, 503, { error: "busy" });
      }
      if (url.pathname === "/limited" && seen === 1) {
        res.setHeader("retry-after", "1");
        return json(res, 429, { error: "slow down" });
      }
      json(res, 200, { path: url.pathname, n: Number(url.searchParams.get("n") ?? 0) });
    };
    if (ms) setTimeout(answer, ms);
    else answer();
  },
});

type NodeSpec = { name: string; type?: string; config: Record<string, unknown> };
type EdgeSpec = [string, string, string?];

async function graph(nodes: NodeSpec[], edges: EdgeSpec[], settings: Record<string, unknown> = {}) {
  const wf = await call(t.app, "POST", "/api/workflows", {
    token: t.alice.token,
    body: { name: "engine", ...settings },
  });
  const ids: Record<string, string> = {};
  for (const n of nodes) {
    const res = await call(t.app, "POST", `/api/workflows/${wf.body.id}/nodes`, {
      token: t.alice.token,
      body: { name: n.name, type: n.type ?? "http_request", config: n.config },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    ids[n.name] = res.body.id;
  }
  for (const [a, b, condition] of edges) {
    const res = await call(t.app, "POST", `/api/workflows/${wf.body.id}/edges`, {
      token: t.alice.token,
      body: { source_node_id: ids[a], target_node_id: ids[b], condition },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  return wf.body.id as string;
}

const http = (path: string) => ({ url: `${t.upstream.url}${path}`, retry: { max_attempts: 1 } });
const run = async (workflowId: string, input = {}) => {
  const started = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, {
    token: t.alice.token,
    body: { input },
  });
  expect(started.status).toBe(202);
  return { started: started.body, result: () => waitForRun(t.app, t.alice.token, workflowId, started.body.run_id) };
};
type Exec = {
  node_name: string;
  status: string;
  started_at: string;
  finished_at: string;
  output: unknown;
  error: unknown;
};
const byName = (r: { node_executions: Exec[] }) => Object.fromEntries(r.node_executions.map((n) => [n.node_name, n]));

describe("parallelism", () => {
  it("runs B and C of a diamond A→(B, C)→D at the same time", async () => {
    const wf = await graph(
      [{ name: "A", config: http("/a") }, { name: "B", config: http("/b?ms=700") }, {
        name: "C",
        config: http("/c?ms=700"),
      }, { name: "D", config: http("/d") }],
      [["A", "B"], ["A", "C"], ["B", "D"], ["C", "D"]],
    );
    const r = await (await run(wf)).result();
    expect(r.status).toBe("succeeded");
    const n = byName(r);
    const [bs, bf, cs, cf] = [n.B.started_at, n.B.finished_at, n.C.started_at, n.C.finished_at].map(Date.parse);
    expect(bs).toBeLessThan(cf);
    expect(cs).toBeLessThan(bf);
    expect(Date.parse(n.D.started_at)).toBeGreaterThanOrEqual(Math.max(bf, cf));
    expect(Date.parse(n.B.started_at)).toBeGreaterThanOrEqual(Date.parse(n.A.finished_at));
  });

  it("never runs more nodes at once than max_parallel", async () => {
    const wf = await graph(
      [
        { name: "S", config: http("/s") },
        ...["X", "Y", "Z"].map((name) => ({ name, config: http(`/${name}?ms=300`) })),
      ],
      [["S", "X"], ["S", "Y"], ["S", "Z"]],
      { max_parallel: 1 },
    );
    const r = await (await run(wf)).result();
    const spans = ["X", "Y", "Z"].map((k) => byName(r)[k]).map((
      e,
    ) => [Date.parse(e.started_at), Date.parse(e.finished_at)])
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
  });
});

describe("conditions and skipping", () => {
  it("takes only edges whose condition holds, skips the rest and propagates the skip", async () => {
    const wf = await graph(
      [
        { name: "A", config: http("/a?n={{input.n}}") },
        { name: "big", config: http("/big") },
        { name: "small", config: http("/small") },
        { name: "after_small", config: http("/after") },
        { name: "join", config: http("/join") },
      ],
      [
        ["A", "big", "nodes.A.output.body.n > 3"],
        ["A", "small", "nodes.A.output.body.n <= 3"],
        ["small", "after_small"],
        ["big", "join"],
        ["small", "join"],
      ],
      { max_parallel: 4 },
    );
    const r = await (await run(wf, { n: 5 })).result();
    expect(r.status).toBe("succeeded");
    const n = byName(r);
    expect(n.big.status).toBe("succeeded");
    expect(n.small.status).toBe("skipped");
    expect(n.after_small.status).toBe("skipped");
    expect(n.join.status).toBe("succeeded");
    expect(t.upstream.requests.some((q) => q.url === "/small")).toBe(false);
    // The other input takes the other branch.
    const r2 = await (await run(wf, { n: 1 })).result();
    expect(byName(r2).big.status).toBe("skipped");
    expect(byName(r2).after_small.status).toBe("succeeded");
    // Outputs of skipped sinks are absent; taken sinks are present.
    expect(Object.keys(r2.output).sort()).toEqual(["after_small", "join"]);
  });
});

describe("transform nodes", () => {
  it("computes an output from the context with JSONata", async () => {
    const wf = await graph(
      [
        { name: "fetch", config: http("/f?n=21") },
        {
          name: "shape",
          type: "transform",
          config: { expression: '{"double": nodes.fetch.output.body.n * 2, "city": $uppercase(input.city)}' },
        },
      ],
      [["fetch", "shape"]],
    );
    const r = await (await run(wf, { city: "lima" })).result();
    expect(r.status).toBe("succeeded");
    expect(r.output).toEqual({ shape: { double: 42, city: "LIMA" } });
  });

  it("refuses the clock and randomness, without retrying", async () => {
    const wf = await graph([{ name: "clock", type: "transform", config: { expression: "$now()" } }], []);
    const r = await (await run(wf)).result();
    expect(r.status).toBe("failed");
    expect(r.node_executions).toHaveLength(1);
    expect(r.node_executions[0].error).toMatchObject({ type: "ExpressionError", retryable: false });
  });

  it("rejects a transform expression that does not parse when the node is saved", async () => {
    const wf = (await call(t.app, "POST", "/api/workflows", { token: t.alice.token, body: { name: "x" } })).body.id;
    const res = await call(t.app, "POST", `/api/workflows/${wf}/nodes`, {
      token: t.alice.token,
      body: { name: "bad", type: "transform", config: { expression: "1 +" } },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe("config.expression");
  });
});

describe("failure policy", () => {
  it("fail_fast (default) cancels running siblings and starts nothing more", async () => {
    const wf = await graph(
      [{ name: "S", config: http("/s") }, { name: "bad", config: http("/missing?ms=200") }, {
        name: "slow",
        config: http("/slow?ms=8000"),
      }, {
        name: "later",
        config: http("/later"),
      }],
      [["S", "bad"], ["S", "slow"], ["slow", "later"]],
    );
    const began = Date.now();
    const r = await (await run(wf)).result();
    expect(Date.now() - began).toBeLessThan(6000);
    expect(r.status).toBe("failed");
    expect(r.error.node).toBe("bad");
    const n = byName(r);
    expect(n.slow.status).toBe("cancelled");
    // What depended on the cancelled node never ran: it is recorded as skipped.
    expect(n.later.status).toBe("skipped");
    expect(t.upstream.requests.some((q) => q.url === "/later")).toBe(false);
  });

  it("continue lets independent branches finish and skips what depended on the failure", async () => {
    const wf = await graph(
      [{ name: "S", config: http("/s") }, { name: "bad", config: http("/missing") }, {
        name: "after_bad",
        config: http("/x"),
      }, {
        name: "good",
        config: http("/good?ms=1500"),
      }],
      [["S", "bad"], ["bad", "after_bad"], ["S", "good"]],
      { on_failure: "continue" },
    );
    const r = await (await run(wf)).result();
    expect(r.status).toBe("failed");
    const n = byName(r);
    expect(n.good.status).toBe("succeeded");
    expect(n.bad.status).toBe("failed");
    expect(n.after_bad.status).toBe("skipped");
    expect(r.output.good.body.path).toBe("/good");
  });
});

describe("cancel", () => {
  it("cancels the running node and ends the run cancelled, in Temporal too", async () => {
    const wf = await graph([{ name: "slow", config: http("/slow?ms=15000") }, { name: "next", config: http("/n") }], [[
      "slow",
      "next",
    ]]);
    const { started, result } = await run(wf);
    await new Promise((r) => setTimeout(r, 700));
    const began = Date.now();
    expect(
      (await call(t.app, "POST", `/api/workflows/${wf}/runs/${started.run_id}/cancel`, { token: t.bob.token })).status,
    ).toBe(404);
    const res = await call(t.app, "POST", `/api/workflows/${wf}/runs/${started.run_id}/cancel`, {
      token: t.alice.token,
    });
    expect(res.status).toBe(202);
    const r = await result();
    expect(Date.now() - began).toBeLessThan(5000);
    expect(r.status).toBe("cancelled");
    expect(byName(r).slow.status).toBe("cancelled");
    expect(byName(r).next).toBeUndefined();
    const d = await temporalFinalStatus(t.temporal, started.temporal.workflow_id);
    expect(d.status.name).toBe("CANCELLED");
    const again = await call(t.app, "POST", `/api/workflows/${wf}/runs/${started.run_id}/cancel`, {
      token: t.alice.token,
    });
    expect(again.status).toBe(409);
  });
});

describe("sibling groups", () => {
  const node = (name: string, path: string, config: Record<string, unknown> = {}) => ({
    name,
    config: { url: `${t.upstream.url}${path}`, ...config },
  });
  const attempts = (r: { node_executions: Exec[] }, name: string) =>
    r.node_executions.filter((e) => e.node_name === name).map((e) => [
      (e as unknown as { attempt: number }).attempt,
      e.status,
    ]);

  it("siblings started together run as one activity; each member keeps its own retries and attempts", async () => {
    const key = crypto.randomUUID();
    const wf = await graph(
      [
        node("S", "/s"),
        node("flaky", `/flaky?key=${key}&fail=2`, { retry: { max_attempts: 3, initial_interval_ms: 100 } }),
        node("ok1", "/ok1?ms=300"),
        node("ok2", "/ok2"),
      ],
      [["S", "flaky"], ["S", "ok1"], ["S", "ok2"]],
    );
    const { started, result } = await run(wf);
    const r = await result();
    expect(r.status, JSON.stringify(r.error)).toBe("succeeded");
    expect(attempts(r, "flaky")).toEqual([[1, "failed"], [2, "failed"], [3, "succeeded"]]);
    expect(attempts(r, "ok1")).toEqual([[1, "succeeded"]]);
    expect(attempts(r, "ok2")).toEqual([[1, "succeeded"]]);
    const failedAttempt = r.node_executions.find((e: Exec) => e.node_name === "flaky" && e.status === "failed");
    expect(failedAttempt?.error).toMatchObject({ type: "HTTP_503", retryable: true });
    // In Temporal: S alone, then one activity for the three siblings, named after the first of them.
    const history = await t.temporal.workflow.getHandle(started.temporal.workflow_id).fetchHistory();
    const ids = history.events!.filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => e.activityTaskScheduledEventAttributes!.activityId);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe("S");
    expect(ids[1]).toMatch(/^(flaky|ok1|ok2)\+2$/);
  });

  it("honours a member's Retry-After and timeout, and with on_failure continue its siblings still finish", async () => {
    const key = crypto.randomUUID();
    const wf = await graph(
      [
        node("S", "/s"),
        node("limited", `/limited?key=${key}`, { retry: { max_attempts: 2, initial_interval_ms: 10 } }),
        node("stuck", "/stuck?ms=3000", { timeout_ms: 200, retry: { max_attempts: 2, initial_interval_ms: 10 } }),
        node("fine", "/fine?ms=200"),
      ],
      [["S", "limited"], ["S", "stuck"], ["S", "fine"]],
      { on_failure: "continue" },
    );
    const r = await (await run(wf)).result();
    expect(r.status).toBe("failed");
    expect(r.error.node).toBe("stuck");
    const n: Exec[] = r.node_executions.filter((e: Exec) => e.node_name === "limited");
    expect(n.map((e) => e.status)).toEqual(["failed", "succeeded"]);
    // The 429 asked for a second: the policy's 10 ms backoff gave way to it.
    expect(Date.parse(n[1].started_at) - Date.parse(n[0].finished_at)).toBeGreaterThanOrEqual(950);
    expect(attempts(r, "stuck")).toEqual([[1, "failed"], [2, "failed"]]);
    expect(r.node_executions.find((e: Exec) => e.node_name === "stuck")?.error).toMatchObject({ type: "Timeout" });
    expect(attempts(r, "fine")).toEqual([[1, "succeeded"]]);
  });

  it("cancelling the run cancels every running member", async () => {
    const wf = await graph([node("S", "/s"), node("a", "/cancel-a?ms=15000"), node("b", "/cancel-b?ms=15000")], [[
      "S",
      "a",
    ], [
      "S",
      "b",
    ]]);
    const { started, result } = await run(wf);
    const arrived = (path: string) => t.upstream.requests.some((q) => q.url.startsWith(path));
    for (let i = 0; i < 200 && !(arrived("/cancel-a") && arrived("/cancel-b")); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(arrived("/cancel-a") && arrived("/cancel-b")).toBe(true);
    const began = Date.now();
    const res = await call(t.app, "POST", `/api/workflows/${wf}/runs/${started.run_id}/cancel`, {
      token: t.alice.token,
    });
    expect(res.status).toBe(202);
    const r = await result();
    expect(Date.now() - began).toBeLessThan(5000);
    expect(r.status).toBe("cancelled");
    expect(attempts(r, "a")).toEqual([[1, "cancelled"]]);
    expect(attempts(r, "b")).toEqual([[1, "cancelled"]]);
  });
});
