/**
 * Records the Temporal histories that workflows/replay.test.ts replays (skipped unless RECORD_HISTORIES=1). Re-record
 * after a deliberate, patched() change to workflow code, on its own Temporal port and database:
 *   RECORD_HISTORIES=1 WEFT_TEST_TEMPORAL_PORT=7699 TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/weft_test_replay \
 *     node_modules/.bin/vitest run test/record-histories.test.ts
 * `-t <name>` records only that one; data-keys.json keeps the keys of the histories recorded before (merged by id).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { exportDataKeys } from "../db/payload-keys.ts";
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, useApiHarness } from "./harness.ts";
import { call, json, waitForRun } from "./helpers.ts";

const DIR = "test/histories";
// historyToJSON of @temporalio/common 1.24 fails ("type must be a Type"): with this lockfile it has its own copy of
// protobufjs. The same canonical JSON comes from the protobufjs copy that @temporalio/proto's types belong to.
const require = createRequire(import.meta.url);
const History = require("@temporalio/proto").lookupType("temporal.api.history.v1.History");
const { toJson } = createRequire(require.resolve("@temporalio/proto"))("protobufjs/ext/protojson");
let t: ApiHarness;
let token: string;

type NodeSpec = { name: string; type?: string; config: Record<string, unknown> };

async function graph(nodes: NodeSpec[], edges: [string, string, string?][], settings: Record<string, unknown> = {}) {
  const wf = await call(t.app, "POST", "/api/workflows", { token, body: { name: "replay", ...settings } });
  const ids: Record<string, string> = {};
  for (const n of nodes) {
    const body = { name: n.name, type: n.type ?? "http_request", config: n.config };
    const res = await call(t.app, "POST", `/api/workflows/${wf.body.id}/nodes`, { token, body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    ids[n.name] = res.body.id;
  }
  for (const [a, b, condition] of edges) {
    const body = { source_node_id: ids[a], target_node_id: ids[b], condition };
    const res = await call(t.app, "POST", `/api/workflows/${wf.body.id}/edges`, { token, body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  return wf.body.id as string;
}

const http = (path: string) => ({ url: `${t.upstream.url}${path}`, retry: { max_attempts: 1 } });

/** Runs the workflow to its end (`during` may act on the running run), checks its status, saves its history. */
async function record(
  name: string,
  workflowId: string,
  expected: string,
  input: Record<string, unknown> = {},
  during?: (runId: string) => Promise<void>,
) {
  const started = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, { token, body: { input } });
  expect(started.status).toBe(202);
  await during?.(started.body.run_id);
  const run = await waitForRun(t.app, token, workflowId, started.body.run_id);
  expect(run.status).toBe(expected);
  const handle = t.temporal.workflow.getHandle(started.body.temporal.workflow_id);
  await handle.result().catch(() => {}); // the workflow closes just after it records the run's end
  const file = `${DIR}/${name}.json`;
  writeFileSync(file, JSON.stringify(toJson(History, History.fromObject(await handle.fetchHistory())), null, 2) + "\n");
  execFileSync("node_modules/.bin/deno", ["fmt", "--quiet", file]);
  return run;
}

describe.skipIf(!process.env.RECORD_HISTORIES)("record workflow histories for the replay test", () => {
  t = useApiHarness({
    names: ["replay", "bob"],
    // Small map batches, so a map over a workflow of a few items records mapBatch children.
    env: { WEFT_MAP_BATCH_ITEMS: "2" },
    upstream: (req, _body, res) => {
      const url = new URL(req.url!, "http://x");
      const answer = () =>
        url.pathname === "/missing"
          ? json(res, 404, { error: "nope" })
          : json(res, 200, { path: url.pathname, n: Number(url.searchParams.get("n") ?? 0) });
      setTimeout(answer, Number(url.searchParams.get("ms") ?? 0));
    },
  });
  beforeAll(() => {
    token = t.alice.token;
    mkdirSync(DIR, { recursive: true });
  });
  afterAll(async () => {
    // The tenants' data keys, wrapped under the fixed test payload key: the histories' payloads are sealed with
    // them, and the database that held them is recreated on every test run.
    // Keys of histories recorded before (a `-t` run records one) are kept, merged by id.
    const file = `${DIR}/data-keys.json`;
    const kept: { id: string }[] = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : [];
    const recorded = await exportDataKeys(t.sql);
    const merged = [...kept.filter((k) => !recorded.some((r) => r.id === k.id)), ...recorded];
    writeFileSync(file, JSON.stringify(merged, null, 2) + "\n");
  });

  it("a 3-node chain", async () => {
    const wf = await graph(
      [{ name: "A", config: http("/a?n=1") }, { name: "B", config: http("/b?n={{nodes.A.output.body.n}}") }, {
        name: "C",
        config: http("/c"),
      }],
      [["A", "B"], ["B", "C"]],
    );
    await record("chain", wf, "succeeded");
  });

  it("a diamond whose condition skips a branch", async () => {
    const wf = await graph(
      [
        { name: "A", config: http("/a?n={{input.n}}") },
        { name: "big", config: http("/big") },
        { name: "small", config: http("/small") },
        { name: "join", config: http("/join") },
      ],
      [["A", "big", "nodes.A.output.body.n > 3"], ["A", "small", "nodes.A.output.body.n <= 3"], ["big", "join"], [
        "small",
        "join",
      ]],
    );
    const run = await record("diamond-condition", wf, "succeeded", { n: 5 });
    expect(run.node_executions.find((e: { node_name: string }) => e.node_name === "small").status).toBe("skipped");
  });

  it("a failing node with fail_fast cancelling its sibling", async () => {
    const wf = await graph(
      [
        { name: "S", config: http("/s") },
        { name: "bad", config: http("/missing?ms=200") },
        { name: "slow", config: http("/slow?ms=8000") },
        { name: "later", config: http("/later") },
      ],
      [["S", "bad"], ["S", "slow"], ["slow", "later"]],
    );
    await record("fail-fast", wf, "failed");
  });

  it("a failing node with on_failure continue", async () => {
    const wf = await graph(
      [{ name: "S", config: http("/s") }, { name: "bad", config: http("/missing") }, {
        name: "good",
        config: http("/good?ms=300"),
      }],
      [["S", "bad"], ["S", "good"]],
      { on_failure: "continue" },
    );
    await record("continue-on-failure", wf, "failed");
  });

  it("a cancelled run", async () => {
    const wf = await graph([{ name: "slow", config: http("/slow?ms=15000") }, { name: "next", config: http("/n") }], [[
      "slow",
      "next",
    ]]);
    await record("cancelled", wf, "cancelled", {}, async (runId) => {
      await new Promise((r) => setTimeout(r, 700));
      const res = await call(t.app, "POST", `/api/workflows/${wf}/runs/${runId}/cancel`, { token });
      expect(res.status).toBe(202);
    });
  });

  it("an approval whose message is a template, approved while it waits", async () => {
    const wf = await graph(
      [{ name: "ask", type: "approval", config: { message: "Ship {{input.title}}?" } }, {
        name: "after",
        type: "transform",
        config: { expression: "nodes.ask.output.approved" },
      }],
      [["ask", "after"]],
    );
    const run = await record("approval-template", wf, "succeeded", { title: "v2" }, async (runId) => {
      for (let i = 0; i < 100; i++) {
        const res = await call(t.app, "POST", `/api/workflows/${wf}/runs/${runId}/nodes/ask/approve`, {
          token,
          body: { approved: true },
        });
        if (res.status === 200) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error("the approval never waited");
    });
    expect(run.output).toEqual({ after: true });
  });

  it("a condition that overruns its time bound fails the run", async () => {
    const wf = await graph(
      [{ name: "A", config: http("/a") }, { name: "B", config: http("/b") }],
      [["A", "B", '$match("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", /(a+)+$/)']],
    );
    const run = await record("condition-limit", wf, "failed");
    expect(run.error.message).toMatch(/condition on the edge into "B" failed: .*stopped/);
  });

  it("a transform node", async () => {
    const wf = await graph(
      [{ name: "fetch", config: http("/f?n=21") }, {
        name: "shape",
        type: "transform",
        config: { expression: '{"double": nodes.fetch.output.body.n * 2, "city": $uppercase(input.city)}' },
      }],
      [["fetch", "shape"]],
    );
    const run = await record("transform", wf, "succeeded", { city: "lima" });
    expect(run.output).toEqual({ shape: { double: 42, city: "LIMA" } });
  });

  it("short nodes as local activities: a chain, local siblings and a node that opts out", async () => {
    const quick = (path: string) => ({ ...http(path), timeout_ms: 5000 });
    const wf = await graph(
      [
        { name: "shape", type: "transform", config: { expression: '{"n": input.n * 2}' } },
        { name: "fetch", config: quick("/f?n={{nodes.shape.output.n}}") },
        { name: "left", config: quick("/l?ms=100") },
        { name: "right", type: "transform", config: { expression: "nodes.fetch.output.body.n + 1" } },
        { name: "durable", config: { ...quick("/d"), durable_step: true } },
      ],
      [["shape", "fetch"], ["fetch", "left"], ["fetch", "right"], ["right", "durable"]],
    );
    const run = await record("local-activities", wf, "succeeded", { n: 21 });
    expect(run.output.durable.body.path).toBe("/d");
    expect(run.node_executions.map((e: { node_name: string; execution: string }) => [e.node_name, e.execution]))
      .toEqual(expect.arrayContaining([["shape", "local"], ["left", "local"], ["durable", "activity"]]));
  });

  it("control flow: a map with a failed item, an event sent while waiting, a delay and a sub-workflow", async () => {
    const child = await graph([{ name: "inner", type: "transform", config: { expression: "input.x + 1" } }], []);
    const wf = await graph(
      [
        {
          name: "each",
          type: "map",
          config: {
            items: "[1, 2, 3]",
            node: { type: "http_request", config: http("/{{item = 2 ? 'missing' : 'ok'}}?n={{item}}") },
            on_item_failure: "continue",
          },
        },
        { name: "go", type: "wait_for_event", config: { event: "go" } },
        { name: "pause", type: "delay", config: { duration_ms: 200 } },
        {
          name: "call",
          type: "sub_workflow",
          config: { workflow_id: child, input: { x: "{{nodes.go.output.data}}" } },
        },
      ],
      [["each", "go"], ["go", "pause"], ["pause", "call"]],
    );
    const run = await record("control-flow", wf, "succeeded", {}, async (runId) => {
      const res = await call(t.app, "POST", `/api/workflows/${wf}/runs/${runId}/signals/go`, {
        token,
        body: { data: 41 },
      });
      expect(res.status).toBe(202);
    });
    expect(run.output).toEqual({ call: { inner: 42 } });
  });

  it("a map over a workflow in batches (mapBatch children), and one batch's own history", async () => {
    const child = await graph([{ name: "inner", type: "transform", config: { expression: "input.n * 2" } }], []);
    const wf = await graph([{
      name: "each",
      type: "map",
      config: { items: "[1, 2, 3]", workflow_id: child, input: { n: "{{item}}" }, concurrency: 2 },
    }], []);
    const run = await record("map-batches", wf, "succeeded");
    expect(run.output.each.items).toEqual([{ inner: 2 }, { inner: 4 }, { inner: 6 }]);
    const batch = t.temporal.workflow.getHandle(`weft-run-${run.id}-map-${run.node_executions[0].node_id}-0`);
    const file = `${DIR}/map-batch.json`;
    writeFileSync(
      file,
      JSON.stringify(toJson(History, History.fromObject(await batch.fetchHistory())), null, 2) + "\n",
    );
    execFileSync("node_modules/.bin/deno", ["fmt", "--quiet", file]);
  });

  it("maps of wait_for_event (events sent to the run by rendered name) and of delay", async () => {
    const wf = await graph(
      [
        {
          name: "tickets",
          type: "map",
          config: { items: "['a', 'b']", node: { type: "wait_for_event", config: { event: "t.{{item}}" } } },
        },
        {
          name: "pauses",
          type: "map",
          config: { items: "[100, 50]", node: { type: "delay", config: { duration_ms: "{{item}}" } } },
        },
      ],
      [["tickets", "pauses"]],
    );
    const run = await record("map-waits", wf, "succeeded", {}, async (runId) => {
      for (const id of ["b", "a"]) {
        const res = await call(t.app, "POST", `/api/workflows/${wf}/runs/${runId}/signals/t.${id}`, {
          token,
          body: { data: id },
        });
        expect(res.status).toBe(202);
      }
    });
    expect(run.output.pauses.items.map((i: { waited_ms: number }) => i.waited_ms)).toEqual([100, 50]);
  });

  it("a failed run that starts its error workflow", async () => {
    const onError = await graph([{ name: "seen", type: "transform", config: { expression: "input.failed_node" } }], []);
    const wf = await graph([{ name: "bad", config: http("/missing") }], [], { error_workflow_id: onError });
    await record("error-workflow", wf, "failed");
  });

  it("a schedule's firing (scheduledRun, its child runDag started with search attributes)", async () => {
    const wf = await graph([{ name: "tick", config: http("/tick") }], []);
    const created = await call(t.app, "POST", `/api/workflows/${wf}/schedules`, {
      token,
      body: { cron: "0 0 1 1 *", paused: true, input: { n: 1 } },
    });
    expect(created.status).toBe(201);
    const schedule = t.temporal.schedule.getHandle(created.body.temporal.schedule_id);
    await schedule.trigger();
    let firing: string | undefined;
    for (let i = 0; i < 100 && !firing; i++) {
      firing = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId;
      if (!firing) await new Promise((r) => setTimeout(r, 100));
    }
    const handle = t.temporal.workflow.getHandle(firing!);
    await handle.result();
    const file = `${DIR}/scheduled-run.json`;
    writeFileSync(
      file,
      JSON.stringify(toJson(History, History.fromObject(await handle.fetchHistory())), null, 2) + "\n",
    );
    execFileSync("node_modules/.bin/deno", ["fmt", "--quiet", file]);
    await call(t.app, "DELETE", `/api/workflows/${wf}/schedules/${created.body.id}`, { token });
  });
});
