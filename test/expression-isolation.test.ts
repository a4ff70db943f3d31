/**
 * Issue 10, property 5, as the attack: a user's runaway expression (edge condition, transform, template,
 * approval message) fails that user's run with a clear error, while the worker keeps its pid and another
 * user's run, started during the attack, finishes quickly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useApiHarness } from "./harness.ts";
import { buildWorkflow, call, json, temporalFinalStatus, waitForRun } from "./helpers.ts";
import { type Spawned, startWorker } from "./processes.ts";

const QUEUE = "weft-test-expressions";
const TIMEOUT_MS = 1500;
/** How long another user's one-node run may take while an attack runs (a loaded, shared 2-core machine). */
const VICTIM_BOUND_MS = 5000;
const EVIL = '"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"';

const t = useApiHarness({
  env: { WEFT_TASK_QUEUE: QUEUE },
  names: ["expr-attacker", "expr-victim"],
  upstream: (_req, _body, res) => json(res, 200, { ok: true }),
});
let worker: Spawned;
let attacker: string;
let victim: string;
let victimWorkflow: string;
const latencies: Record<string, number> = {};

type Node = { name: string; type?: string; config: Record<string, unknown> };

/** A workflow with the given nodes and edges (an edge may carry a condition). */
async function graph(token: string, nodes: Node[], edges: [string, string, string?][] = []) {
  const { workflowId, nodeIds } = await buildWorkflow(
    t.app,
    token,
    nodes.map((n) => ({ type: "transform", ...n })),
    [],
  );
  for (const [a, b, condition] of edges) {
    const res = await call(t.app, "POST", `/api/workflows/${workflowId}/edges`, {
      token,
      body: { source_node_id: nodeIds[a], target_node_id: nodeIds[b], condition },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  return workflowId;
}

async function execute(token: string, workflowId: string, input: Record<string, unknown> = {}) {
  const res = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, { token, body: { input } });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return { runId: res.body.run_id as string, temporalId: res.body.temporal.workflow_id as string };
}

/** The other user's one-node transform run, start to finish. */
async function victimRun(): Promise<number> {
  const started = performance.now();
  const { runId } = await execute(victim, victimWorkflow, { n: 41 });
  const run = await waitForRun(t.app, victim, victimWorkflow, runId, 60_000);
  expect(run.status).toBe("succeeded");
  expect(run.output).toEqual({ answer: 42 });
  return performance.now() - started;
}

/** Runs the attack, and the victim's run during it; returns the attack's failed run. */
async function attack(name: string, workflowId: string) {
  const pid = worker.proc.pid;
  const { runId, temporalId } = await execute(attacker, workflowId);
  await new Promise((r) => setTimeout(r, 300)); // the attack is evaluating by now
  const victimMs = await victimRun();
  latencies[name] = victimMs;
  const run = await waitForRun(t.app, attacker, workflowId, runId, 60_000);
  // The run fails; its workflow closes (no workflow task retried forever); the worker is the same process.
  expect(run.status).toBe("failed");
  expect((await temporalFinalStatus(t.temporal, temporalId, 30_000)).status.name).toBe("FAILED");
  expect(worker.proc.pid).toBe(pid);
  expect(worker.proc.exitCode).toBeNull();
  expect(worker.proc.signalCode).toBeNull();
  // A fixed bound, stretched on a machine so loaded that the victim's run alone is slow.
  expect(victimMs).toBeLessThan(Math.max(VICTIM_BOUND_MS, 4 * latencies.baseline));
  return run;
}

beforeAll(async () => {
  worker = await startWorker(QUEUE, {
    WEFT_EXPRESSION_TIMEOUT_MS: String(TIMEOUT_MS),
    WEFT_EXPRESSION_MEMORY_MB: "64",
  });
  [attacker, victim] = [t.alice.token, t.bob.token];
  victimWorkflow = await graph(victim, [{ name: "answer", config: { expression: "input.n + 1" } }]);
  // Baseline: the victim's run with nothing else going on (the first warms the workflow cache).
  await victimRun();
  latencies.baseline = await victimRun();
}, 120_000);

afterAll(async () => {
  console.log(
    `one-node transform run of another user (ms): ${
      JSON.stringify(latencies, (_k, v) => typeof v === "number" ? Math.round(v) : v)
    }`,
  );
  await worker?.stop();
});

/** Median wall time of `n` runs of a workflow, start to finish. */
async function medianRunMs(workflowId: string, n: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const { runId } = await execute(attacker, workflowId, { n: 5 });
    expect((await waitForRun(t.app, attacker, workflowId, runId, 60_000)).status).toBe("succeeded");
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)];
}

describe("conditions off the workflow thread", () => {
  it("keep a 3-node chain fast: one local activity per node with conditions", async () => {
    const nodes = ["A", "B", "C"].map((name) => ({ name, config: { expression: "input.n" } }));
    const plain = await graph(attacker, nodes, [["A", "B"], ["B", "C"]]);
    const conditional = await graph(attacker, nodes, [["A", "B", "nodes.A.output > 3"], [
      "B",
      "C",
      "nodes.B.output > 3",
    ]]);
    await medianRunMs(conditional, 1); // warm the workflow cache
    const plainMs = await medianRunMs(plain, 3);
    const conditionalMs = await medianRunMs(conditional, 3);
    latencies["3-node chain"] = plainMs;
    latencies["3-node chain, 2 conditions"] = conditionalMs;
    expect(conditionalMs).toBeLessThan(plainMs * 2 + 500);
  });
});

describe("expressions cannot stop or slow the worker for others", () => {
  it("an edge condition with a catastrophic regex ($match) fails its run at the time bound", async () => {
    const wf = await graph(attacker, [{ name: "A", config: { expression: "1" } }, {
      name: "B",
      config: { expression: "2" },
    }], [["A", "B", `$match(${EVIL}, /(a+)+$/)`]]);
    const run = await attack("condition $match", wf);
    expect(run.error.message).toMatch(/condition on the edge into "B" failed: .*longer than 1500 ms/);
    expect(run.node_executions.find((e: { node_name: string }) => e.node_name === "B").status).toBe("skipped");
  });

  it("an edge condition with a catastrophic regex ($contains) among plain conditions fails only through itself", async () => {
    const wf = await graph(attacker, [
      { name: "A", config: { expression: "{'n': 5}" } },
      { name: "ok", config: { expression: "1" } },
      { name: "evil", config: { expression: "2" } },
    ], [["A", "ok", "nodes.A.output.n > 3"], ["A", "evil", `$contains(${EVIL}, /(a|aa)+$/)`]]);
    const run = await attack("condition $contains", wf);
    expect(run.error.message).toMatch(/condition on the edge into "evil" failed: .*longer than 1500 ms/);
  });

  it("a transform that maps over ten million items is stopped at its timeout_ms or memory bound", async () => {
    const wf = await graph(attacker, [{
      name: "big",
      config: { expression: "$sum($map([1..10000000], function($v) { $v * 2 }))", timeout_ms: 1000 },
    }]);
    const run = await attack("transform $map", wf);
    expect(run.error.message).toMatch(/node "big" failed: .*stopped: it (ran longer than 1000 ms|used more than)/);
  });

  it("a transform that recurses forever is stopped at its timeout_ms", async () => {
    const wf = await graph(attacker, [{
      name: "loop",
      config: { expression: "($f := function($x) { $f($x) }; $f(1))", timeout_ms: 1000 },
    }]);
    const run = await attack("transform recursion", wf);
    expect(run.error.message).toMatch(/node "loop" failed: .*stopped/);
    const execution = run.node_executions.find((e: { node_name: string }) => e.node_name === "loop");
    expect(execution.error.type).toBe("ExpressionLimit");
    expect(execution.attempt).toBe(1); // not retried: it would overrun again
  });

  it("a transform that blows up memory is stopped at the memory bound", async () => {
    const wf = await graph(attacker, [{
      name: "hog",
      config: {
        expression: '$count($map([1..10000000], function($v) { $string($v) & "padding" }))',
        timeout_ms: 60_000,
      },
    }]);
    const run = await attack("transform memory", wf);
    expect(run.error.message).toMatch(/node "hog" failed: .*more than the 64 MB/);
  });

  it("a catastrophic regex in a node's template fails the node before any request is made", async () => {
    const before = t.upstream.requests.length;
    const wf = await graph(attacker, [{
      name: "call",
      type: "http_request",
      config: { url: `${t.upstream.url}/x?q={{ $match(${EVIL}, /(a+)+$/) }}`, retry: { max_attempts: 1 } },
    }]);
    const run = await attack("template", wf);
    expect(run.error.message).toMatch(/node "call" failed: .*longer than 1500 ms/);
    expect(t.upstream.requests.length).toBe(before);
  });

  it("an approval message with a catastrophic regex fails its node", async () => {
    const wf = await graph(attacker, [{
      name: "ask",
      type: "approval",
      config: { message: `{{ $match(${EVIL}, /(a+)+$/) }}` },
    }]);
    const run = await attack("approval message", wf);
    expect(run.error.message).toMatch(/node "ask" failed: .*longer than 1500 ms/);
  });
});
