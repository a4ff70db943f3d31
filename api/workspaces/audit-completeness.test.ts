/**
 * Audit completeness: every audited action, performed once through the API in a team workspace (by a member or
 * an API key), is found in the workspace's audit log with its actor — runs started by a webhook attributed to it,
 * child runs to the system.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { call, json, registerUser, setupApp, startUpstream, type TestContext } from "../../test/helpers.ts";

let t: TestContext;
let upstreamUrl: string;
beforeAll(async () => {
  t = await setupApp();
  upstreamUrl = (await startUpstream((_req, _body, res) => json(res, 200, { ok: true }))).url;
});

async function waitForStatus(token: string, headers: Record<string, string>, wf: string, run: string, status: string) {
  for (let i = 0; i < 200; i++) {
    const res = await call(t.app, "GET", `/api/workflows/${wf}/runs/${run}`, { token, headers });
    if (res.body.status === status) return res.body;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${run} never ${status}`);
}

describe("audit completeness", () => {
  it("records every change and run action, with who did it", async () => {
    const owner = await registerUser(t.app, "owner");
    const ws =
      (await call(t.app, "POST", "/api/workspaces", { token: owner.token, body: { name: "Audited" } })).body.id;
    const h = { "weft-workspace": ws };
    const as = (method: string, path: string, body?: unknown) =>
      call(t.app, method, path, { token: owner.token, body, headers: h });
    const key = (await as("POST", `/api/workspaces/${ws}/api-keys`, { name: "svc", role: "admin" })).body;
    const byKey = (method: string, path: string, body?: unknown) => call(t.app, method, path, { token: key.key, body });

    const wf = (await as("POST", "/api/workflows", { name: "audited" })).body.id;
    expect((await as("PUT", `/api/workflows/${wf}`, { description: "d" })).status).toBe(200);
    const a = (await as("POST", `/api/workflows/${wf}/nodes`, {
      name: "a",
      type: "http_request",
      config: { url: upstreamUrl },
    }))
      .body.id;
    const b = (await byKey("POST", `/api/workflows/${wf}/nodes`, {
      name: "review",
      type: "approval",
      config: { message: "go?" },
    })).body.id;
    const tmp = (await as("POST", `/api/workflows/${wf}/nodes`, {
      name: "tmp",
      type: "http_request",
      config: { url: upstreamUrl },
    }))
      .body.id;
    expect((await as("PUT", `/api/workflows/${wf}/nodes/${tmp}`, { name: "tmp2" })).status).toBe(200);
    const edge = (await as("POST", `/api/workflows/${wf}/edges`, { source_node_id: a, target_node_id: tmp })).body.id;
    expect((await as("DELETE", `/api/workflows/${wf}/edges/${edge}`)).status).toBe(204);
    expect((await as("DELETE", `/api/workflows/${wf}/nodes/${tmp}`)).status).toBe(204);
    expect((await as("POST", `/api/workflows/${wf}/edges`, { source_node_id: a, target_node_id: b })).status).toBe(201);

    // Runs: started (by the key), approved; another started, cancelled, retried.
    const run1 = (await byKey("POST", `/api/workflows/${wf}/execute`, { input: {} })).body.run_id;
    await waitForStatus(owner.token, h, wf, run1, "waiting");
    expect((await as("POST", `/api/workflows/${wf}/runs/${run1}/nodes/review/approve`, { approved: true })).status)
      .toBe(200);
    const run2 = (await as("POST", `/api/workflows/${wf}/execute`, { input: {} })).body.run_id;
    await waitForStatus(owner.token, h, wf, run2, "waiting");
    expect((await as("POST", `/api/workflows/${wf}/runs/${run2}/cancel`)).status).toBe(202);
    await waitForStatus(owner.token, h, wf, run2, "cancelled");
    expect((await as("POST", `/api/workflows/${wf}/runs/${run2}/retry`, {})).status).toBe(202);

    // Control flow: a sub_workflow's child run (started by the system), an event sent to the waiting parent.
    const child = (await as("POST", "/api/workflows", { name: "child" })).body.id;
    await as("POST", `/api/workflows/${child}/nodes`, { name: "t", type: "transform", config: { expression: "1" } });
    const parent = (await as("POST", "/api/workflows", { name: "parent" })).body.id;
    const call1 = (await as("POST", `/api/workflows/${parent}/nodes`, {
      name: "call",
      type: "sub_workflow",
      config: { workflow_id: child },
    })).body.id;
    const wait = (await as("POST", `/api/workflows/${parent}/nodes`, {
      name: "wait",
      type: "wait_for_event",
      config: { event: "go" },
    })).body.id;
    await as("POST", `/api/workflows/${parent}/edges`, { source_node_id: call1, target_node_id: wait });
    const run3 = (await as("POST", `/api/workflows/${parent}/execute`, { input: {} })).body.run_id;
    await waitForStatus(owner.token, h, parent, run3, "waiting");
    expect((await as("POST", `/api/workflows/${parent}/runs/${run3}/signals/go`, { data: 1 })).status).toBe(202);
    await waitForStatus(owner.token, h, parent, run3, "succeeded");

    // Hooks (and a run the hook starts), schedules, secrets, collections.
    const hook = (await as("POST", `/api/workflows/${wf}/hook`)).body;
    expect((await call(t.app, "POST", hook.url_path, { body: {} })).status).toBe(202);
    expect((await as("DELETE", `/api/workflows/${wf}/hook`)).status).toBe(204);
    const schedule = (await as("POST", `/api/workflows/${wf}/schedules`, { cron: "0 0 1 1 *", paused: true })).body.id;
    expect((await as("DELETE", `/api/workflows/${wf}/schedules/${schedule}`)).status).toBe(204);
    expect((await byKey("POST", "/api/secrets", { name: "TOKEN", value: "s3cret-value" })).status).toBe(201);
    expect((await as("PUT", "/api/secrets/TOKEN", { value: "an0ther-value" })).status).toBe(200);
    expect((await as("DELETE", "/api/secrets/TOKEN")).status).toBe(204);
    const col = (await as("POST", "/api/vectors/collections", { name: "notes" })).body.id;
    expect((await as("DELETE", `/api/vectors/collections/${col}`)).status).toBe(204);
    expect((await as("DELETE", `/api/workflows/${wf}`)).status).toBe(204);
    expect((await as("DELETE", `/api/workspaces/${ws}/api-keys/${key.id}`)).status).toBe(204);

    const res = await t.app.request(`/api/workspaces/${ws}/audit`, {
      headers: { authorization: `Bearer ${owner.token}`, accept: "application/x-ndjson" },
    });
    const text = await res.text();
    const entries = text.trim().split("\n").map((l) => JSON.parse(l));
    const seen = new Set(entries.map((e) => `${e.action} by ${e.actor.type}`));
    for (
      const expected of [
        "workspace.created by user",
        "api_key.created by user",
        "workflow.created by user",
        "workflow.updated by user",
        "node.created by user",
        "node.created by api_key",
        "node.updated by user",
        "node.deleted by user",
        "edge.created by user",
        "edge.deleted by user",
        "run.started by api_key",
        "run.approved by user",
        "run.started by user",
        "run.cancelled by user",
        "run.retried by user",
        "run.started by system",
        "run.signalled by user",
        "hook.rotated by user",
        "run.started by webhook",
        "hook.disabled by user",
        "schedule.created by user",
        "schedule.deleted by user",
        "secret.created by api_key",
        "secret.updated by user",
        "secret.deleted by user",
        "collection.created by user",
        "collection.deleted by user",
        "workflow.deleted by user",
        "api_key.revoked by user",
      ]
    ) expect(seen, expected).toContain(expected);
    // Never a secret's value, nor a key.
    expect(text).not.toContain("s3cret-value");
    expect(text).not.toContain("an0ther-value");
    expect(text).not.toContain(key.key);
    const started = entries.find((e) => e.action === "run.started" && e.actor.type === "api_key");
    expect(started).toMatchObject({ actor: { id: key.id, name: "svc" }, resource: { type: "run", id: run1 } });
  });
});
