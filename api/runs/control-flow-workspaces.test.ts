/**
 * Control flow in workspaces: a team's members build on each other's workflows (sub_workflow, map, error
 * workflow), child and error runs belong to the parent's workspace and starter and are audited; a member of
 * another workspace can neither signal a run, read its map items, nor name the team's workflows in its own.
 */
import { describe, expect, it } from "vitest";
import { workflowIds } from "../../core/contract.ts";
import { WEFT_WORKSPACE_ID } from "../../core/search-attributes.ts";
import { useApiHarness } from "../../test/harness.ts";
import { registerUser, until } from "../../test/helpers.ts";

const h = useApiHarness();

describe("control flow across workspaces", () => {
  it("scopes child runs, error runs, signals and map items to the workspace", async () => {
    const team = (await h.call("POST", "/api/workspaces", { token: h.alice.token, body: { name: "Flow team" } }))
      .body.id as string;
    await h.call("POST", `/api/workspaces/${team}/members`, {
      token: h.alice.token,
      body: { email: h.bob.email, role: "editor" },
    });
    const inTeam = (user: { token: string }) => ({ token: user.token, headers: { "weft-workspace": team } });
    const post = (user: { token: string }, path: string, body: unknown) =>
      h.call("POST", path, { ...inTeam(user), body });
    const workflow = async (user: { token: string }, name: string, body: Record<string, unknown> = {}) =>
      (await post(user, "/api/workflows", { name, ...body })).body.id as string;

    // Alice's workflows; Bob (same team) names them in his own.
    const child = await workflow(h.alice, "child");
    await post(h.alice, `/api/workflows/${child}/nodes`, {
      name: "double",
      type: "transform",
      config: { expression: "input.x * 2" },
    });
    const onError = await workflow(h.alice, "on-error");
    await post(h.alice, `/api/workflows/${onError}/nodes`, {
      name: "seen",
      type: "transform",
      config: { expression: "input.failed_node" },
    });
    const parent = await workflow(h.bob, "parent", { error_workflow_id: onError });
    const nodes = [
      { name: "call", type: "sub_workflow", config: { workflow_id: child, input: { x: 21 } } },
      { name: "each", type: "map", config: { items: "[1, 2]", workflow_id: child, input: { x: "{{item}}" } } },
      { name: "wait", type: "wait_for_event", config: { event: "go" } },
      { name: "boom", type: "transform", config: { expression: "$error('it broke')" } },
    ];
    const ids: string[] = [];
    for (const n of nodes) {
      const res = await post(h.bob, `/api/workflows/${parent}/nodes`, n);
      expect(res.status, n.name).toBe(201);
      ids.push(res.body.id);
    }
    for (let i = 1; i < ids.length; i++) {
      await post(h.bob, `/api/workflows/${parent}/edges`, { source_node_id: ids[i - 1], target_node_id: ids[i] });
    }
    expect((await h.call("GET", `/api/workflows/${parent}/validate`, inTeam(h.bob))).body.valid).toBe(true);
    const runId = (await post(h.bob, `/api/workflows/${parent}/execute`, { input: {} })).body.run_id as string;
    await until(
      async () => (await h.call("GET", `/api/workflows/${parent}/runs/${runId}`, inTeam(h.alice))).body.status,
      (s) => s === "waiting",
    );

    // Someone of another workspace: nothing of the team's is theirs to signal, read or name.
    const mallory = await registerUser(h.app, "mallory");
    const own = (await h.call("POST", "/api/workspaces", { token: mallory.token, body: { name: "Elsewhere" } }))
      .body.id as string;
    for (const headers of [{}, { "weft-workspace": own }] as Record<string, string>[]) {
      const as = { token: mallory.token, headers };
      const signal = await h.call("POST", `/api/workflows/${parent}/runs/${runId}/signals/go`, { ...as, body: {} });
      expect(signal.status).toBe(404);
      const items = await h.call("GET", `/api/workflows/${parent}/runs/${runId}/nodes/each/items`, as);
      expect(items.status).toBe(404);
      const mine = (await h.call("POST", "/api/workflows", { ...as, body: { name: "mine" } })).body.id as string;
      for (
        const config of [{ workflow_id: child }, { items: "[1]", workflow_id: child }]
      ) {
        const type = "items" in config ? "map" : "sub_workflow";
        const res = await h.call("POST", `/api/workflows/${mine}/nodes`, { ...as, body: { name: "n", type, config } });
        expect(res.status, type).toBe(400);
      }
      expect((await h.call("PUT", `/api/workflows/${mine}`, { ...as, body: { error_workflow_id: onError } })).status)
        .toBe(400);
      const created = await h.call("POST", "/api/workflows", { ...as, body: { name: "x", error_workflow_id: child } });
      expect(created.status).toBe(400);
    }
    // Nothing started from outside: only the parent's own children.
    const childRuns = (await h.call("GET", `/api/workflows/${child}/runs`, inTeam(h.alice))).body.items;
    expect(childRuns).toHaveLength(3);

    // The team reads the map's items and sends the event; the run fails at `boom` and starts its error workflow.
    const items = await h.call("GET", `/api/workflows/${parent}/runs/${runId}/nodes/each/items`, inTeam(h.alice));
    expect(items.status).toBe(200);
    expect(items.body.items).toHaveLength(2);
    expect((await post(h.alice, `/api/workflows/${parent}/runs/${runId}/signals/go`, {})).status).toBe(202);
    const ended = await until(
      async () => (await h.call("GET", `/api/workflows/${parent}/runs/${runId}`, inTeam(h.bob))).body,
      (run) => run.status !== "waiting" && run.status !== "running",
    );
    expect(ended.status).toBe("failed");
    const outputs = Object.fromEntries(
      ended.node_executions.map((e: { node_name: string; output: unknown }) => [e.node_name, e.output]),
    );
    expect(outputs).toMatchObject({ call: { double: 42 }, each: { items: [{ double: 2 }, { double: 4 }] } });
    const errorRuns = await until(
      async () => (await h.call("GET", `/api/workflows/${onError}/runs`, inTeam(h.alice))).body.items,
      (runs: { status: string }[]) => runs.some((r) => r.status === "succeeded"),
    );
    expect(errorRuns).toMatchObject([{ trigger: "error", parent_run_id: runId }]);

    // Children and the error run: the team's, started by whoever started the parent, audited as the system's.
    const rows = await h
      .sql`SELECT id, workspace_id, owner_id, trigger FROM workflow_runs WHERE parent_run_id = ${runId}`;
    expect(rows.map((r) => r.trigger).sort()).toEqual(["error", "map", "map", "sub_workflow"]);
    for (const r of rows) {
      expect({ workspace: r.workspace_id, by: r.owner_id }).toEqual({ workspace: team, by: h.bob.id });
    }
    // Their Temporal workflows carry the team's WeftWorkspaceId, like every run's.
    for (const r of rows) {
      const described = await h.temporal.workflow.getHandle(workflowIds.run(r.id as string)).describe();
      expect(described.typedSearchAttributes.get(WEFT_WORKSPACE_ID), r.trigger as string).toBe(team);
    }
    const audit = await h.sql`SELECT actor_type, resource_id, action FROM audit_log
      WHERE workspace_id = ${team} AND resource_id IN ${h.sql(rows.map((r) => r.id as string))}`;
    expect(audit).toHaveLength(rows.length);
    for (const a of audit) expect(a).toMatchObject({ actor_type: "system", action: "run.started" });
    const signalled = await h.sql`SELECT actor_type, actor_id, details FROM audit_log
      WHERE workspace_id = ${team} AND action = 'run.signalled' AND resource_id = ${runId}`;
    expect(signalled).toMatchObject([{ actor_type: "user", actor_id: h.alice.id, details: { event: "go" } }]);
  }, 180_000);
});
