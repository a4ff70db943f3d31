/** `execute?wait=N` and `hooks/{token}?wait=N`: one request per run, answered with the run once it ends. */
import { describe, expect, it } from "vitest";
import { call, json } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";

const t = useApiHarness({
  upstream: (req, _body, res) => {
    const url = new URL(req.url!, "http://x");
    const ms = Number(url.searchParams.get("ms") ?? 0);
    if (url.pathname === "/fail") return json(res, 400, { error: "bad request upstream" });
    setTimeout(() => json(res, 200, { ok: true, path: url.pathname }), ms);
  },
});

type Caller = { headers?: Record<string, string>; token?: string };
const execute = (wf: string, wait: string | number, opts: Caller = {}) =>
  call(t.app, "POST", `/api/workflows/${wf}/execute?wait=${wait}`, {
    token: opts.token ?? t.alice.token,
    body: { input: { city: "tokyo" } },
    headers: opts.headers,
  });
const getRun = (wf: string, runId: string, query = "") =>
  call(t.app, "GET", `/api/workflows/${wf}/runs/${runId}${query}`, { token: t.alice.token });
const runCount = async (wf: string) =>
  (await call(t.app, "GET", `/api/workflows/${wf}/runs`, { token: t.alice.token })).body.total as number;
const chain = async (paths: string[]) =>
  (await t.buildWorkflow(paths.map((p, i) => ({ name: `n${i + 1}`, config: { url: `${t.upstream.url}${p}` } }))))
    .workflowId;
const hookOf = async (wf: string) =>
  (await call(t.app, "POST", `/api/workflows/${wf}/hook`, { token: t.alice.token })).body.url_path as string;
const fire = (path: string, wait: string | number, headers: Record<string, string> = {}) =>
  call(t.app, "POST", `${path}?wait=${wait}`, { body: { city: "tokyo" }, headers });

describe("POST …/execute?wait=N", () => {
  it("answers 200 with the finished run, the same body GET answers, within ms of the run's final write", async () => {
    const wf = await chain(["/a", "/b"]);
    const res = await execute(wf, 30);
    const answeredAt = Date.now();
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("succeeded");
    expect(res.body.node_executions.map((e: { node_name: string; status: string }) => [e.node_name, e.status]))
      .toEqual([["n1", "succeeded"], ["n2", "succeeded"]]);
    expect(res.body.output.n2.body).toEqual({ ok: true, path: "/b" });
    expect((await getRun(wf, res.body.id)).body).toEqual(res.body);
    // Answered on the final write's NOTIFY, not by polling: the finished_at stamp is the write's own clock.
    const lag = answeredAt - new Date(res.body.finished_at).getTime();
    expect(lag).toBeLessThan(500);
    expect(await runCount(wf)).toBe(1);
    // Where the time went: snapshot and checks, the run row, Temporal's start, the wait for the end, the reads.
    expect(res.headers.get("server-timing")).toMatch(
      /^prepare;dur=[\d.]+, insert;dur=[\d.]+, temporal;dur=[\d.]+, wait;dur=[\d.]+, read;dur=[\d.]+$/,
    );
  });

  it("reads the run's events once at the start and once at its end, not after each node", async () => {
    const wf = await chain(["/slow?ms=100", "/slow?ms=100", "/slow?ms=100"]);
    const before = t.events.reads;
    const res = await execute(wf, 30);
    expect(res.body.status).toBe("succeeded");
    const events = await t.sql`SELECT count(*)::int AS n FROM run_events WHERE run_id = ${res.body.id}`;
    expect(events[0].n).toBeGreaterThanOrEqual(5);
    expect(t.events.reads - before).toBeLessThanOrEqual(3);
  });

  it("a failed run is a 200 with the failed run; a cancelled one too", async () => {
    const failing = await chain(["/ok", "/fail", "/never"]);
    const res = await execute(failing, 30);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("failed");
    expect(res.body.error).toBeTruthy();
    const byName = Object.fromEntries(res.body.node_executions.map((e: { node_name: string }) => [e.node_name, e]));
    expect(byName.n1.status).toBe("succeeded");
    expect(byName.n2).toMatchObject({ status: "failed", error: { type: "HTTP_400" } });
    expect((await getRun(failing, res.body.id)).body).toEqual(res.body);

    const slow = await chain(["/slow?ms=20000"]);
    const waiting = execute(slow, 30);
    let runId: string | undefined;
    for (let i = 0; i < 100 && !runId; i++) {
      const list = await call(t.app, "GET", `/api/workflows/${slow}/runs`, { token: t.alice.token });
      runId = list.body.items[0]?.id;
      if (!runId) await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 300));
    expect((await call(t.app, "POST", `/api/workflows/${slow}/runs/${runId}/cancel`, { token: t.alice.token })).status)
      .toBe(202);
    const cancelled = await waiting;
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: runId, status: "cancelled" });
  });

  it("a run that outlasts the wait is the usual 202, and GET finds it later", async () => {
    const wf = await chain(["/slow?ms=2500"]);
    const started = Date.now();
    const res = await execute(wf, 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      status: expect.stringMatching(/^(pending|running)$/),
      run_id: expect.any(String),
    });
    const later = await getRun(wf, res.body.run_id, "?wait=20");
    expect(later.body.status).toBe("succeeded");
  });

  it("wait=0 answers 202 at once", async () => {
    const wf = await chain(["/a"]);
    const res = await execute(wf, 0);
    expect(res.status).toBe(202);
    await getRun(wf, res.body.run_id, "?wait=20");
  });

  it("an Idempotency-Key repeat waits on the same run and answers it when finished", async () => {
    const wf = await chain(["/slow?ms=300", "/b"]);
    const key = `k-${crypto.randomUUID()}`;
    const headers = { "idempotency-key": key };
    const [first, second] = await Promise.all([execute(wf, 30, { headers }), execute(wf, 30, { headers })]);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.body.id).toBe(first.body.id);
    expect(first.body.status).toBe("succeeded");
    expect([first, second].filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(1);
    const later = await execute(wf, 30, { headers });
    expect(later.status).toBe(200);
    expect(later.body).toEqual(first.body);
    expect(await runCount(wf)).toBe(1);
  });

  it("a wait outside 0–60 or not an integer is a 400 JSON error, and nothing starts", async () => {
    const wf = await chain(["/a"]);
    for (const bad of ["61", "-1", "1.5", "abc", "1e9", "0x10"]) {
      const res = await execute(wf, bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.error.code, bad).toBe("VALIDATION_ERROR");
      expect(res.body.error.details[0].field, bad).toBe("wait");
    }
    expect(await runCount(wf)).toBe(0);
  });

  it("another workspace's workflow is a 404 and starts nothing; a viewer-less caller is a 401", async () => {
    const wf = await chain(["/a"]);
    const res = await execute(wf, 5, { token: t.bob.token });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("NOT_FOUND");
    const anonymous = await call(t.app, "POST", `/api/workflows/${wf}/execute?wait=5`, { body: { input: {} } });
    expect(anonymous.status).toBe(401);
    expect(await runCount(wf)).toBe(0);
  });
});

describe("POST /api/hooks/{token}?wait=N", () => {
  it("answers 200 with the finished run, failed ones included", async () => {
    const wf = await chain(["/a", "/b"]);
    const res = await fire(await hookOf(wf), 30);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "succeeded", trigger: "webhook", input: { city: "tokyo" } });
    expect((await getRun(wf, res.body.id)).body).toEqual(res.body);

    const failing = await chain(["/fail"]);
    const failed = await fire(await hookOf(failing), 30);
    expect(failed.status).toBe(200);
    expect(failed.body.status).toBe("failed");
    expect(failed.body.node_executions[0]).toMatchObject({ status: "failed", error: { type: "HTTP_400" } });
  });

  it("202 when the run outlasts the wait; 400 for a bad wait; the same run for a repeated Idempotency-Key", async () => {
    const wf = await chain(["/slow?ms=2500"]);
    const hook = await hookOf(wf);
    const late = await fire(hook, 1);
    expect(late.status).toBe(202);
    expect((await getRun(wf, late.body.run_id, "?wait=20")).body.status).toBe("succeeded");

    for (const bad of ["61", "x", "-5"]) expect((await fire(hook, bad)).status, bad).toBe(400);
    expect(await runCount(wf)).toBe(1);

    const headers = { "idempotency-key": `hook-${crypto.randomUUID()}` };
    const [a, b] = await Promise.all([fire(hook, 30, headers), fire(hook, 30, headers)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.body.id).toBe(a.body.id);
    expect(await runCount(wf)).toBe(2);
  });

  it("a rotated-away or unknown token is a 404 and starts nothing", async () => {
    const wf = await chain(["/a"]);
    const old = await hookOf(wf);
    await hookOf(wf);
    expect((await fire(old, 5)).status).toBe(404);
    expect((await fire(`/api/hooks/${"A".repeat(43)}`, 5)).status).toBe(404);
    expect(await runCount(wf)).toBe(0);
  });
});
