import { describe, expect, it } from "vitest";
import { WEFT_OWNER_ID, WEFT_STATUS, WEFT_WORKFLOW_ID, WEFT_WORKSPACE_ID } from "../../core/search-attributes.ts";
import { buildWorkflow, call, json, temporalFinalStatus, waitForRun } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";
import { runSharedSecurityTests } from "../../test/security-suite.ts";

const flaky = new Map<string, number>();

const t = useApiHarness({
  upstream: (req, body, res) => {
    const url = new URL(req.url!, "http://x");
    if (url.pathname === "/users") return json(res, 200, { users: [{ id: 7, name: "Ada" }, { id: 8, name: "Bob" }] });
    if (url.pathname.startsWith("/users/")) {
      return json(res, 200, { id: Number(url.pathname.split("/")[2]), q: url.searchParams.get("q") });
    }
    if (url.pathname === "/echo") return json(res, 201, { received: JSON.parse(body || "null"), method: req.method });
    if (url.pathname === "/missing") return json(res, 404, { error: "no such thing" });
    if (url.pathname === "/slow") {
      return setTimeout(() => json(res, 200, { slow: true }), Number(url.searchParams.get("ms") ?? 3000));
    }
    if (url.pathname === "/flaky") {
      const key = url.searchParams.get("key")!;
      const seen = (flaky.get(key) ?? 0) + 1;
      flaky.set(key, seen);
      return seen === 1
        ? json(res, 503, { error: "warming up" }, { "retry-after": "0" })
        : json(res, 200, { ok: true, seen });
    }
    if (url.pathname === "/image") {
      res.writeHead(200, { "content-type": "image/png" });
      return res.end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 255]));
    }
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("plain text");
  },
});

const execute = (workflowId: string, input: unknown = {}, token = t.alice.token) =>
  call(t.app, "POST", `/api/workflows/${workflowId}/execute`, { token, body: { input } });

describe("execute (happy)", () => {
  it("runs a 3-node http_request chain through Temporal, passing outputs downstream by template", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [
      { name: "list", config: { url: `${t.upstream.url}/users` } },
      {
        name: "user",
        config: { url: `${t.upstream.url}/users/{{nodes.list.output.body.users.0.id}}`, query: { q: "{{input.q}}" } },
      },
      {
        name: "report",
        config: {
          method: "POST",
          url: `${t.upstream.url}/echo`,
          body: {
            id: "{{nodes.user.output.body.id}}",
            who: "{{nodes.list.output.body.users.1.name}}",
            note: "q={{input.q}}",
          },
        },
      },
    ]);
    const started = await execute(workflowId, { q: "hello" });
    expect(started.status).toBe(202);
    expect(started.body.status).toBe("pending");
    expect(started.body.temporal.workflow_id).toBe(`weft-run-${started.body.run_id}`);
    expect(started.body.temporal.ui_url).toContain(`/namespaces/default/workflows/weft-run-${started.body.run_id}/`);

    const run = await waitForRun(t.app, t.alice.token, workflowId, started.body.run_id);
    expect(run.status).toBe("succeeded");
    expect(run.input).toEqual({ q: "hello" });
    expect(run.error).toBeNull();
    expect(run.started_at).not.toBeNull();
    expect(run.finished_at).not.toBeNull();
    expect(run.node_executions.map((n: { node_name: string }) => n.node_name)).toEqual(["list", "user", "report"]);
    for (const n of run.node_executions) {
      expect(n).toMatchObject({ status: "succeeded", attempt: 1, type: "http_request" });
      expect(n.duration_ms).toBeGreaterThanOrEqual(0);
      expect(Date.parse(n.finished_at)).toBeGreaterThanOrEqual(Date.parse(n.started_at));
    }
    const [list, user, report] = run.node_executions;
    expect(list.output.body.users).toHaveLength(2);
    expect(user.input.url).toBe(`${t.upstream.url}/users/7`);
    expect(user.output).toMatchObject({ status: 200, body: { id: 7, q: "hello" } });
    expect(typeof user.output.elapsed_ms).toBe("number");
    // A whole-template value keeps its JSON type (7 stays a number); text templates interpolate.
    expect(report.input.body).toEqual({ id: 7, who: "Bob", note: "q=hello" });
    expect(report.output.body).toEqual({ received: { id: 7, who: "Bob", note: "q=hello" }, method: "POST" });
    expect(run.output).toEqual({ report: report.output });

    const description = await temporalFinalStatus(t.temporal, started.body.temporal.workflow_id);
    expect(description.status.name).toBe("COMPLETED");
    expect(description.type).toBe("runDag");
    // An operator can filter runs in the Temporal UI by Weft workflow, owner and status.
    const attrs = description.typedSearchAttributes;
    expect(attrs.get(WEFT_WORKFLOW_ID)).toBe(workflowId);
    expect(attrs.get(WEFT_OWNER_ID)).toBe(t.alice.id);
    // The run's workspace: alice's personal one, whose id is hers.
    expect(attrs.get(WEFT_WORKSPACE_ID)).toBe(t.alice.id);
    expect(attrs.get(WEFT_STATUS)).toBe("succeeded");
    // Visibility is eventually consistent: the run shows up in a filtered list within moments.
    const query = `WeftWorkflowId = "${workflowId}" AND WeftStatus = "succeeded"`;
    let listed: string[] = [];
    for (let i = 0; i < 50 && !listed.length; i++) {
      listed = [];
      for await (const w of t.temporal.workflow.list({ query })) listed.push(w.workflowId);
      if (!listed.length) await new Promise((r) => setTimeout(r, 100));
    }
    expect(listed).toEqual([started.body.temporal.workflow_id]);
    const history = await t.temporal.workflow.getHandle(started.body.temporal.workflow_id).fetchHistory();
    const scheduled = history.events!.filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => e.activityTaskScheduledEventAttributes!.activityId);
    expect(scheduled).toEqual(["list", "user", "report"]);
  });

  it("keeps text bodies as text", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [{
      name: "plain",
      config: { url: `${t.upstream.url}/text` },
    }]);
    const run = await waitForRun(t.app, t.alice.token, workflowId, (await execute(workflowId)).body.run_id);
    expect(run.output.plain.body).toBe("plain text");
  });

  it("retries a transient 503 and records every attempt", async () => {
    const key = crypto.randomUUID();
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [
      { name: "flaky", config: { url: `${t.upstream.url}/flaky?key=${key}`, retry: { initial_interval_ms: 100 } } },
    ]);
    const run = await waitForRun(t.app, t.alice.token, workflowId, (await execute(workflowId)).body.run_id);
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    expect(run.node_executions.map((n: { attempt: number; status: string }) => [n.attempt, n.status])).toEqual([[
      1,
      "failed",
    ], [2, "succeeded"]]);
    expect(run.node_executions[0].error).toMatchObject({ type: "HTTP_503", retryable: true });
  });

  it("runs the snapshot it started with, even when the workflow is edited mid-run", async () => {
    const { workflowId, nodeIds } = await buildWorkflow(t.app, t.alice.token, [
      { name: "slow", config: { url: `${t.upstream.url}/slow?ms=1500` } },
      { name: "after", config: { url: `${t.upstream.url}/users/1` } },
    ]);
    const started = await execute(workflowId);
    const edit = await call(t.app, "PUT", `/api/workflows/${workflowId}/nodes/${nodeIds.after}`, {
      token: t.alice.token,
      body: { config: { url: `${t.upstream.url}/users/2` } },
    });
    expect(edit.status).toBe(200);
    const run = await waitForRun(t.app, t.alice.token, workflowId, started.body.run_id);
    expect(run.status).toBe("succeeded");
    expect(run.node_executions[1].output.body.id).toBe(1);
    expect(run.version).toBe(started.body.version);
    const second = await execute(workflowId);
    expect(second.body.version).toBeGreaterThan(started.body.version);
    expect(second.body.version_hash).not.toBe(started.body.version_hash);
  });

  it("lists runs newest first", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [{
      name: "one",
      config: { url: `${t.upstream.url}/users/1` },
    }]);
    const first = (await execute(workflowId)).body.run_id;
    const second = (await execute(workflowId)).body.run_id;
    const list = await call(t.app, "GET", `/api/workflows/${workflowId}/runs`, { token: t.alice.token });
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(2);
    expect(list.body.items.map((r: { id: string }) => r.id)).toEqual([second, first]);
  });
});

describe("execute (errors)", () => {
  it("a 404 from upstream fails the node without retry, skips what follows and fails the run", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [
      { name: "get", config: { url: `${t.upstream.url}/missing` } },
      { name: "never", config: { url: `${t.upstream.url}/users/1` } },
    ]);
    const started = await execute(workflowId);
    const run = await waitForRun(t.app, t.alice.token, workflowId, started.body.run_id);
    expect(run.status).toBe("failed");
    expect(run.error.node).toBe("get");
    expect(run.error.message).toContain("404");
    expect(run.node_executions).toHaveLength(2);
    expect(run.node_executions[0]).toMatchObject({
      status: "failed",
      attempt: 1,
      error: { type: "HTTP_404", retryable: false },
    });
    // Nothing downstream of the failure ran: it is recorded as skipped.
    expect(run.node_executions[1]).toMatchObject({ node_name: "never", status: "skipped" });
    const description = await temporalFinalStatus(t.temporal, started.body.temporal.workflow_id);
    expect(description.status.name).toBe("FAILED");
  });

  it("a template that fails at run time fails the node clearly", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [
      { name: "bad", config: { url: "{{ $number('abc') }}" } },
    ]);
    const run = await waitForRun(t.app, t.alice.token, workflowId, (await execute(workflowId)).body.run_id);
    expect(run.status).toBe("failed");
    expect(run.node_executions[0].error.type).toMatch(/TemplateError|InvalidConfig/);
  });

  it("an invalid graph is a 400 carrying the validation errors; nothing is started", async () => {
    const { workflowId, nodeIds } = await buildWorkflow(t.app, t.alice.token, [
      { name: "a", config: { url: `${t.upstream.url}/users/1` } },
      { name: "b", config: { url: `${t.upstream.url}/users/1` } },
    ]);
    await call(t.app, "POST", `/api/workflows/${workflowId}/edges`, {
      token: t.alice.token,
      body: { source_node_id: nodeIds.b, target_node_id: nodeIds.a },
    });
    const res = await execute(workflowId);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("INVALID_GRAPH");
    expect(res.body.error.details.errors.map((e: { code: string }) => e.code)).toContain("CYCLE");
    const empty =
      (await call(t.app, "POST", "/api/workflows", { token: t.alice.token, body: { name: "empty" } })).body.id;
    expect((await execute(empty)).status).toBe(400);
    expect((await call(t.app, "GET", `/api/workflows/${workflowId}/runs`, { token: t.alice.token })).body.total).toBe(
      0,
    );
  });

  it("input must be a JSON object", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [{
      name: "a",
      config: { url: `${t.upstream.url}/users/1` },
    }]);
    const res = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, {
      token: t.alice.token,
      body: { input: [1, 2] },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe("input");
  });

  it("a run an operator terminates in Temporal is reported failed by the API", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [{
      name: "slow",
      config: { url: `${t.upstream.url}/slow?ms=20000` },
    }]);
    const started = await execute(workflowId);
    await new Promise((r) => setTimeout(r, 500));
    await t.temporal.workflow.getHandle(started.body.temporal.workflow_id).terminate("operator says stop");
    const run = await waitForRun(t.app, t.alice.token, workflowId, started.body.run_id);
    expect(run.status).toBe("failed");
    expect(run.error.message).toContain("TERMINATED");
  });
});

describe("http_request safety", () => {
  it("a request to the cloud metadata address fails the node at once, without retry", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [
      { name: "steal", config: { url: "http://169.254.169.254/latest/meta-data/" } },
    ]);
    const run = await waitForRun(t.app, t.alice.token, workflowId, (await execute(workflowId)).body.run_id);
    expect(run.status).toBe("failed");
    expect(run.node_executions).toHaveLength(1);
    expect(run.node_executions[0].error).toMatchObject({ type: "EgressBlocked", retryable: false });
    expect(run.node_executions[0].error.message).toContain("169.254.169.254");
  });

  it("returns binary bodies base64 with their content type", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [{
      name: "img",
      config: { url: `${t.upstream.url}/image` },
    }]);
    const run = await waitForRun(t.app, t.alice.token, workflowId, (await execute(workflowId)).body.run_id);
    expect(run.output.img).toMatchObject({ body_encoding: "base64", content_type: "image/png" });
    expect(Buffer.from(run.output.img.body, "base64")).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 255]));
  });
});

describe("runs (security)", () => {
  it("another user cannot execute, list or read a run (404); no token 401", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [{
      name: "a",
      config: { url: `${t.upstream.url}/users/1` },
    }]);
    const runId = (await execute(workflowId)).body.run_id;
    expect((await execute(workflowId, {}, t.bob.token)).status).toBe(404);
    expect((await call(t.app, "GET", `/api/workflows/${workflowId}/runs`, { token: t.bob.token })).status).toBe(404);
    expect((await call(t.app, "GET", `/api/workflows/${workflowId}/runs/${runId}`, { token: t.bob.token })).status)
      .toBe(
        404,
      );
    expect((await call(t.app, "GET", `/api/workflows/${workflowId}/runs/${runId}`)).status).toBe(401);
    expect((await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, { body: { input: {} } })).status).toBe(
      401,
    );
    await waitForRun(t.app, t.alice.token, workflowId, runId);
  });
});

runSharedSecurityTests(
  t,
  "a run",
  async (owner) => {
    const { workflowId } = await t.buildWorkflow(
      [{ name: "a", config: { url: `${t.upstream.url}/users/1` } }],
      [],
      owner,
    );
    const run = await t.runToEnd(workflowId, {}, owner);
    return { wf: workflowId, run: run.id as string };
  },
  [
    { method: "POST", path: ({ wf }) => `/api/workflows/${wf}/execute`, body: { input: {} } },
    { method: "GET", path: ({ wf }) => `/api/workflows/${wf}/runs` },
    { method: "GET", path: ({ wf, run }) => `/api/workflows/${wf}/runs/${run}` },
    { method: "GET", path: ({ wf, run }) => `/api/workflows/${wf}/runs/${run}/events` },
    { method: "POST", path: ({ wf, run }) => `/api/workflows/${wf}/runs/${run}/cancel` },
    { method: "POST", path: ({ wf, run }) => `/api/workflows/${wf}/runs/${run}/retry`, body: {} },
    {
      method: "POST",
      path: ({ wf, run }) => `/api/workflows/${wf}/runs/${run}/nodes/a/approve`,
      body: { approved: true },
    },
  ],
);
