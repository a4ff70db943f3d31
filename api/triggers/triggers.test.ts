import { createHash } from "node:crypto";
import { ScheduleNotFoundError, WorkflowFailedError } from "@temporalio/client";
import { describe, expect, it } from "vitest";
import { buildWorkflow, call, json, waitForRun } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";
import { runSharedSecurityTests } from "../../test/security-suite.ts";

const t = useApiHarness({
  upstream: (req, _body, res) => {
    const url = new URL(req.url!, "http://x");
    if (url.pathname.startsWith("/users/")) return json(res, 200, { id: url.pathname.split("/")[2] });
    json(res, 404, { error: "no such thing" });
  },
});

/** A one-node workflow whose node reads `input.id`. */
const userWorkflow = async (token = t.alice.token) =>
  (await buildWorkflow(t.app, token, [{ name: "user", config: { url: `${t.upstream.url}/users/{{input.id}}` } }]))
    .workflowId;

const hookPath = (workflowId: string) => `/api/workflows/${workflowId}/hook`;
const schedulesPath = (workflowId: string) => `/api/workflows/${workflowId}/schedules`;
const createHook = (workflowId: string, token = t.alice.token) => call(t.app, "POST", hookPath(workflowId), { token });
const fire = (path: string, body: unknown) => call(t.app, "POST", path, { body });
const createSchedule = (workflowId: string, body: unknown, token = t.alice.token) =>
  call(t.app, "POST", schedulesPath(workflowId), { token, body });

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("webhooks", () => {
  it("a POST to the hook URL, without a bearer token, runs the workflow with the body as input", async () => {
    const workflowId = await userWorkflow();
    expect((await call(t.app, "GET", hookPath(workflowId), { token: t.alice.token })).body).toEqual({
      enabled: false,
      created_at: null,
    });
    const hook = await createHook(workflowId);
    expect(hook.status).toBe(201);
    expect(hook.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hook.body.url_path).toBe(`/api/hooks/${hook.body.token}`);
    expect(hook.headers.get("cache-control")).toBe("no-store");

    const started = await fire(hook.body.url_path, { id: "42", extra: [1, 2] });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: "pending", version: expect.any(Number) });
    expect(started.body.temporal.workflow_id).toBe(`weft-run-${started.body.run_id}`);
    expect(started.body.temporal.ui_url).toContain(`/workflows/weft-run-${started.body.run_id}/`);

    const run = await waitForRun(t.app, t.alice.token, workflowId, started.body.run_id);
    expect(run.status).toBe("succeeded");
    expect(run.input).toEqual({ id: "42", extra: [1, 2] });
    expect(run.node_executions[0].output.body).toEqual({ id: "42" });
    const [row] = await t.sql`SELECT trigger, owner_id FROM workflow_runs WHERE id = ${started.body.run_id}`;
    expect(row).toEqual({ trigger: "webhook", owner_id: t.alice.id });

    // Only the token's SHA-256 is stored, and the status never shows the token.
    const [stored] = await t.sql`SELECT token_hash FROM workflow_hooks WHERE workflow_id = ${workflowId}`;
    expect(stored.token_hash).toBe(createHash("sha256").update(hook.body.token).digest("hex"));
    const status = await call(t.app, "GET", hookPath(workflowId), { token: t.alice.token });
    expect(status.body).toEqual({ enabled: true, created_at: expect.any(String) });
  });

  it("rotating the token invalidates the old one at once", async () => {
    const workflowId = await userWorkflow();
    const first = (await createHook(workflowId)).body;
    const second = await createHook(workflowId);
    expect(second.status).toBe(201);
    expect(second.body.token).not.toBe(first.token);
    const old = await fire(first.url_path, { id: "1" });
    expect(old.status).toBe(404);
    expect(old.body.error.code).toBe("NOT_FOUND");
    const fresh = await fire(second.body.url_path, { id: "1" });
    expect(fresh.status).toBe(202);
    await waitForRun(t.app, t.alice.token, workflowId, fresh.body.run_id);
  });

  it("a disabled hook, a deleted workflow's hook and an unknown token are 404", async () => {
    const workflowId = await userWorkflow();
    const { url_path } = (await createHook(workflowId)).body;
    expect((await call(t.app, "DELETE", hookPath(workflowId), { token: t.alice.token })).status).toBe(204);
    expect((await fire(url_path, { id: "1" })).status).toBe(404);
    expect((await call(t.app, "GET", hookPath(workflowId), { token: t.alice.token })).body.enabled).toBe(false);

    const other = await userWorkflow();
    const hook = (await createHook(other)).body;
    expect((await call(t.app, "DELETE", `/api/workflows/${other}`, { token: t.alice.token })).status).toBe(204);
    expect((await fire(hook.url_path, { id: "1" })).status).toBe(404);

    expect((await fire(`/api/hooks/${"A".repeat(43)}`, {})).status).toBe(404);
    expect((await fire("/api/hooks/not-a-token", {})).status).toBe(404);
    const runs = await t.sql`SELECT 1 FROM workflow_runs WHERE workflow_id IN (${workflowId}, ${other})`;
    expect(runs).toHaveLength(0);
  });

  it("the body must be a JSON object (400), and nothing is started", async () => {
    const workflowId = await userWorkflow();
    const { url_path } = (await createHook(workflowId)).body;
    for (const body of [[1, 2], "text", 7, null]) {
      const res = await fire(url_path, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_ERROR");
    }
    const malformed = await call(t.app, "POST", url_path, { rawBody: "{nope" });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe("BAD_REQUEST");
    const notJson = await call(t.app, "POST", url_path, { rawBody: "id=1", headers: { "content-type": "text/plain" } });
    expect(notJson.status).toBe(400);
    expect(await t.sql`SELECT 1 FROM workflow_runs WHERE workflow_id = ${workflowId}`).toHaveLength(0);
  });

  it("an invalid graph is a 400 with its errors, as on execute", async () => {
    const empty =
      (await call(t.app, "POST", "/api/workflows", { token: t.alice.token, body: { name: "empty" } })).body.id;
    const res = await fire((await createHook(empty)).body.url_path, {});
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("INVALID_GRAPH");
  });

  it("managing a hook needs a token (401) and is owner-only (404)", async () => {
    const workflowId = await userWorkflow();
    for (const method of ["POST", "GET", "DELETE"]) {
      const anonymous = await call(t.app, method, hookPath(workflowId));
      expect(anonymous.status, method).toBe(401);
      expect(anonymous.body.error.code).toBe("UNAUTHORIZED");
      expect((await call(t.app, method, hookPath(workflowId), { token: t.bob.token })).status, method).toBe(404);
    }
    // Bob's attempts neither created nor disabled anything.
    expect((await call(t.app, "GET", hookPath(workflowId), { token: t.alice.token })).body.enabled).toBe(false);
    const { url_path } = (await createHook(workflowId)).body;
    await call(t.app, "DELETE", hookPath(workflowId), { token: t.bob.token });
    const started = await fire(url_path, { id: "3" });
    expect(started.status).toBe(202);
    await waitForRun(t.app, t.alice.token, workflowId, started.body.run_id);
  });
});

describe("schedules", () => {
  it("creates a Temporal Schedule (paused honoured), lists it and deletes it from Temporal", async () => {
    const workflowId = await userWorkflow();
    const created = await createSchedule(workflowId, {
      cron: "0 3 * * 1-5",
      timezone: "europe/paris",
      input: { id: "9" },
      paused: true,
    });
    expect(created.status).toBe(201);
    const schedule = created.body;
    expect(schedule).toMatchObject({
      workflow_id: workflowId,
      cron: "0 3 * * 1-5",
      timezone: "Europe/Paris",
      input: { id: "9" },
      paused: true,
    });
    expect(schedule.temporal.schedule_id).toBe(`weft-schedule-${schedule.id}`);
    expect(schedule.temporal.ui_url).toContain(`/namespaces/default/schedules/weft-schedule-${schedule.id}`);

    const description = await t.temporal.schedule.getHandle(schedule.temporal.schedule_id).describe();
    expect(description.state.paused).toBe(true);
    expect(description.spec.timezone).toBe("Europe/Paris");
    expect(description.action).toMatchObject({ type: "startWorkflow", workflowType: "scheduledRun" });
    expect(description.action.type === "startWorkflow" && description.action.args).toEqual([
      {
        workflowId,
        ownerId: t.alice.id,
        input: { id: "9" },
        scheduleId: schedule.id,
        searchAttributes: true,
        gpuTaskQueue: "weft-gpu",
        maxDepth: 10,
        maxHistoryEvents: 10_000,
        mapBatchItems: 500,
      },
    ]);

    const defaults = await createSchedule(workflowId, { cron: "*/30 * * * *" });
    expect(defaults.status).toBe(201);
    expect(defaults.body).toMatchObject({ timezone: "UTC", input: {}, paused: false });
    const running = await t.temporal.schedule.getHandle(defaults.body.temporal.schedule_id).describe();
    expect(running.state.paused).toBe(false);

    const list = await call(t.app, "GET", schedulesPath(workflowId), { token: t.alice.token });
    expect(list.status).toBe(200);
    expect(list.body.items.map((s: { id: string }) => s.id)).toEqual([schedule.id, defaults.body.id]);
    expect(list.body.items[0]).toEqual(schedule);

    for (const s of [schedule, defaults.body]) {
      const del = await call(t.app, "DELETE", `${schedulesPath(workflowId)}/${s.id}`, { token: t.alice.token });
      expect(del.status).toBe(204);
      await expect(t.temporal.schedule.getHandle(s.temporal.schedule_id).describe()).rejects.toBeInstanceOf(
        ScheduleNotFoundError,
      );
    }
    expect((await call(t.app, "GET", schedulesPath(workflowId), { token: t.alice.token })).body.items).toEqual([]);
    const again = await call(t.app, "DELETE", `${schedulesPath(workflowId)}/${schedule.id}`, { token: t.alice.token });
    expect(again.status).toBe(404);
  });

  it("each firing records a run (trigger 'schedule') that runs to the end as a child runDag", async () => {
    const workflowId = await userWorkflow();
    // Once a year, so only the trigger below fires it during the test.
    const { body: schedule } = await createSchedule(workflowId, { cron: "0 0 1 1 *", input: { id: "77" } });
    await t.temporal.schedule.getHandle(schedule.temporal.schedule_id).trigger();

    const runId = await until("a scheduled run", async () => {
      const [row] = await t
        .sql`SELECT id FROM workflow_runs WHERE workflow_id = ${workflowId} AND trigger = 'schedule'`;
      return row?.id as string | undefined;
    });
    const run = await waitForRun(t.app, t.alice.token, workflowId, runId);
    expect(run.status).toBe("succeeded");
    expect(run.input).toEqual({ id: "77" });
    expect(run.node_executions[0].output.body).toEqual({ id: "77" });
    expect(run.temporal.workflow_id).toBe(`weft-run-${runId}`);
    const listed = await call(t.app, "GET", `/api/workflows/${workflowId}/runs`, { token: t.alice.token });
    expect(listed.body.items.map((r: { id: string; status: string }) => [r.id, r.status])).toEqual([[
      runId,
      "succeeded",
    ]]);

    const child = await t.temporal.workflow.getHandle(`weft-run-${runId}`).describe();
    expect(child.type).toBe("runDag");
    expect(child.status.name).toBe("COMPLETED");
    const fired = await t.temporal.schedule.getHandle(schedule.temporal.schedule_id).describe();
    const parentId = fired.info.recentActions[0].action.workflow.workflowId;
    expect(parentId.startsWith(`weft-schedule-${schedule.id}`)).toBe(true);
    const parent = t.temporal.workflow.getHandle(parentId);
    expect(await parent.result()).toMatchObject({ status: "succeeded" });
    expect((await parent.describe()).type).toBe("scheduledRun");

    await call(t.app, "DELETE", `${schedulesPath(workflowId)}/${schedule.id}`, { token: t.alice.token });
  });

  it("a firing for a workflow that was deleted creates no run and fails without retrying", async () => {
    const workflowId = await userWorkflow();
    const { body: schedule } = await createSchedule(workflowId, { cron: "0 0 1 1 *" });
    // The API deletes a workflow's schedules with it (delete-workflow.test.ts); a schedule that outlived its
    // workflow some other way (deleted straight in the database) must still start nothing.
    await t.sql`UPDATE workflows SET deleted_at = now() WHERE id = ${workflowId}`;
    const handle = t.temporal.schedule.getHandle(schedule.temporal.schedule_id);
    await handle.trigger();
    const parentId = await until("the firing", async () => {
      const actions = (await handle.describe()).info.recentActions;
      return actions[0]?.action.workflow.workflowId;
    });
    const failed = await t.temporal.workflow.getHandle(parentId).result().catch((err) => err);
    expect(failed).toBeInstanceOf(WorkflowFailedError);
    expect(failed.cause.cause).toMatchObject({ type: "WorkflowNotFound", nonRetryable: true });
    // Temporal records the last attempt's number on the one ActivityTaskStarted event: it was the first.
    const history = await t.temporal.workflow.getHandle(parentId).fetchHistory();
    const started = history.events!.filter((e) => e.activityTaskStartedEventAttributes);
    expect(started.map((e) => e.activityTaskStartedEventAttributes!.attempt)).toEqual([1]);
    expect(await t.sql`SELECT 1 FROM workflow_runs WHERE workflow_id = ${workflowId}`).toHaveLength(0);
    await handle.delete();
  });

  it("bad cron, bad time zone, unknown fields and wrong types are 400; nothing is left behind", async () => {
    const workflowId = await userWorkflow();
    const cases: [unknown, string][] = [
      [{ cron: "every day at noon" }, "cron"],
      [{ cron: "61 * * * *" }, "cron"],
      [{ cron: "CRON_TZ=Asia/Tokyo 0 * * * *" }, "cron"],
      [{}, "cron"],
      [{ cron: "" }, "cron"],
      [{ cron: "0 * * * *", timezone: "Mars/Olympus_Mons" }, "timezone"],
      [{ cron: "0 * * * *", timezone: "+01:00" }, "timezone"],
      [{ cron: "0 * * * *", frequency: "hourly" }, "frequency"],
      [{ cron: "0 * * * *", input: [1] }, "input"],
      [{ cron: "0 * * * *", paused: "yes" }, "paused"],
    ];
    for (const [body, field] of cases) {
      const res = await createSchedule(workflowId, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_ERROR");
      expect(res.body.error.details.map((d: { field: string }) => d.field), JSON.stringify(body)).toContain(field);
    }
    expect(await t.sql`SELECT 1 FROM workflow_schedules WHERE workflow_id = ${workflowId}`).toHaveLength(0);
  });

  it("schedules need a token (401) and are owner-only (404)", async () => {
    const workflowId = await userWorkflow();
    const { body: schedule } = await createSchedule(workflowId, { cron: "0 0 1 1 *", paused: true });
    const one = `${schedulesPath(workflowId)}/${schedule.id}`;
    expect((await call(t.app, "GET", schedulesPath(workflowId))).status).toBe(401);
    expect((await call(t.app, "POST", schedulesPath(workflowId), { body: { cron: "0 * * * *" } })).status).toBe(401);
    expect((await call(t.app, "DELETE", one)).status).toBe(401);
    expect((await call(t.app, "GET", schedulesPath(workflowId), { token: t.bob.token })).status).toBe(404);
    expect((await createSchedule(workflowId, { cron: "0 * * * *" }, t.bob.token)).status).toBe(404);
    expect((await call(t.app, "DELETE", one, { token: t.bob.token })).status).toBe(404);
    // Bob's own workflow does not reach Alice's schedule either.
    const bobs = await userWorkflow(t.bob.token);
    const cross = await call(t.app, "DELETE", `${schedulesPath(bobs)}/${schedule.id}`, { token: t.bob.token });
    expect(cross.status).toBe(404);
    expect((await t.temporal.schedule.getHandle(schedule.temporal.schedule_id).describe()).state.paused).toBe(true);
    expect((await call(t.app, "DELETE", one, { token: t.alice.token })).status).toBe(204);
  });

  it("the trigger routes are in the OpenAPI document; the webhook needs no bearer token there", async () => {
    const doc = (await call(t.app, "GET", "/openapi.json")).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([
      "/api/hooks/{token}",
      "/api/workflows/{id}/hook",
      "/api/workflows/{id}/schedules",
      "/api/workflows/{id}/schedules/{schedule_id}",
    ]));
    expect(doc.paths["/api/hooks/{token}"].post.security).toEqual([]);
    expect(doc.components.schemas.CreateSchedule.required).toEqual(["cron"]);
  });
});

runSharedSecurityTests(
  t,
  "a workflow's webhook and schedules",
  async (owner) => {
    const workflowId = await userWorkflow(owner.token);
    expect((await createHook(workflowId, owner.token)).status).toBe(201);
    const schedule = await createSchedule(workflowId, { cron: "0 0 1 1 *", paused: true }, owner.token);
    return { wf: workflowId, schedule: schedule.body.id as string };
  },
  [
    { method: "GET", path: ({ wf }) => hookPath(wf) },
    { method: "POST", path: ({ wf }) => hookPath(wf) },
    { method: "DELETE", path: ({ wf }) => hookPath(wf) },
    { method: "GET", path: ({ wf }) => schedulesPath(wf) },
    { method: "POST", path: ({ wf }) => schedulesPath(wf), body: { cron: "0 * * * *" } },
    { method: "DELETE", path: ({ wf, schedule }) => `${schedulesPath(wf)}/${schedule}` },
  ],
);
