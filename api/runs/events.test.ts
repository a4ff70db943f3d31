/** Live run progress over SSE: order, resumption, replay of finished runs, custom events, no Temporal reads. */
import { describe, expect, it } from "vitest";
import { appendRunEvent } from "../../db/run-events.ts";
import { buildWorkflow, call, json, waitForRun } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";
import { createApp, type WeftApp } from "../app.ts";
import { loadConfig } from "../config.ts";
import { createLogger } from "../logger.ts";
import { RunEventHub } from "./event-hub.ts";
import { TEST_DATABASE_URL, TEST_JWT_SECRET } from "../../test/env.ts";
import { connect } from "../../db/client.ts";
import type { TemporalApi } from "../temporal/client.ts";

const t = useApiHarness({
  upstream: (req, _body, res) => {
    const url = new URL(req.url!, "http://x");
    const answer = () =>
      url.pathname === "/big" ? json(res, 200, { blob: "x".repeat(100_000) }) : json(res, 200, { path: url.pathname });
    setTimeout(answer, Number(url.searchParams.get("ms") ?? 0));
  },
});

interface SseEvent {
  event: string;
  id: string;
  // deno-lint-ignore no-explicit-any
  data: any;
}

/** Opens the stream and parses it as it arrives; `closed` resolves when the server ends it. */
async function openStream(app: WeftApp, path: string, token?: string, headers: Record<string, string> = {}) {
  const res = await app.request(path, { headers: token ? { authorization: `Bearer ${token}`, ...headers } : headers });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let waiters: (() => void)[] = [];
  let ended = false;
  const reader = res.body?.getReader();
  const closed = (async () => {
    if (!reader || !res.headers.get("content-type")?.startsWith("text/event-stream")) return;
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const fields: Record<string, string> = {};
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) comments.push(line);
          else {
            const i = line.indexOf(": ");
            fields[line.slice(0, i)] = (fields[line.slice(0, i)] ? fields[line.slice(0, i)] + "\n" : "") +
              line.slice(i + 2);
          }
        }
        if (fields.data !== undefined) {
          events.push({ event: fields.event, id: fields.id, data: JSON.parse(fields.data) });
        }
        waiters.forEach((w) => w());
        waiters = [];
      }
    }
    ended = true;
    waiters.forEach((w) => w());
  })();
  /** Resolves once `pred` holds for some received event. */
  const waitFor = async (pred: (e: SseEvent) => boolean, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!events.some(pred)) {
      if (ended) throw new Error(`stream ended without the event: ${JSON.stringify(events)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting: ${JSON.stringify(events)}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
    return events.find(pred)!;
  };
  const closedWithin = (ms: number) =>
    Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  return { res, events, comments, closed, closedWithin, waitFor, cancel: () => reader?.cancel() };
}

const eventsPath = (wf: string, run: string) => `/api/workflows/${wf}/runs/${run}/events`;
const http = (path: string) => ({ url: `${t.upstream.url}${path}`, retry: { max_attempts: 1 } });
/** What an event says, for comparing sequences. */
const summary = (e: SseEvent) =>
  e.event === "node" ? `node ${e.data.node_name} ${e.data.status}` : `${e.event} ${e.data.status ?? ""}`.trim();

async function execute(workflowId: string) {
  const res = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, { token: t.alice.token, body: {} });
  expect(res.status).toBe(202);
  return res.body.run_id as string;
}

let finished: { workflowId: string; runId: string; events: SseEvent[] };

describe("a live run", () => {
  it("streams run and node status changes in order, then closes by itself", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [
      { name: "first", config: http("/first?ms=600") },
      { name: "second", config: http("/second?ms=300") },
    ]);
    const runId = await execute(workflowId);
    const stream = await openStream(t.app, eventsPath(workflowId, runId), t.alice.token);
    expect(stream.res.status).toBe(200);
    expect(stream.res.headers.get("content-type")).toContain("text/event-stream");
    // Live, not a replay: the first node is reported running while the run is still going.
    await stream.waitFor((e) => e.event === "node" && e.data.node_name === "first" && e.data.status === "running");
    expect(
      (await call(t.app, "GET", `/api/workflows/${workflowId}/runs/${runId}`, { token: t.alice.token })).body.status,
    ).toBe("running");
    expect(await stream.closedWithin(20_000)).toBe(true);

    expect(stream.events.map(summary)).toEqual([
      "run pending",
      "run running",
      "node first running",
      "node first succeeded",
      "node second running",
      "node second succeeded",
      "run succeeded",
    ]);
    const ids = stream.events.map((e) => BigInt(e.id));
    for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1]).toBe(true);
    const first = stream.events[3].data;
    expect(first).toMatchObject({ node_name: "first", type: "http_request", attempt: 1 });
    expect(first.output.body).toEqual({ path: "/first" });
    expect(first.duration_ms).toBeGreaterThanOrEqual(500);
    expect(stream.events[2].data.output).toBeUndefined();
    expect(stream.events.at(-1)!.data.output.second.body).toEqual({ path: "/second" });
    finished = { workflowId, runId, events: stream.events };
  });
});

describe("resuming and replaying", () => {
  it("gives a client that connects after the run finished the whole history, and closes at once", async () => {
    const began = Date.now();
    const stream = await openStream(t.app, eventsPath(finished.workflowId, finished.runId), t.alice.token);
    expect(await stream.closedWithin(2000)).toBe(true);
    expect(Date.now() - began).toBeLessThan(2000);
    expect(stream.events).toEqual(finished.events);
  });

  it("resumes after Last-Event-ID (or ?last_event_id=) with exactly the later events", async () => {
    const middle = finished.events[3].id;
    const byHeader = await openStream(t.app, eventsPath(finished.workflowId, finished.runId), t.alice.token, {
      "last-event-id": middle,
    });
    await byHeader.closed;
    expect(byHeader.events).toEqual(finished.events.slice(4));
    const byQuery = await openStream(
      t.app,
      `${eventsPath(finished.workflowId, finished.runId)}?last_event_id=${middle}`,
      t.alice.token,
    );
    await byQuery.closed;
    expect(byQuery.events).toEqual(finished.events.slice(4));
    // The header, what a reconnecting EventSource sends, wins over the id in the URL.
    const both = await openStream(
      t.app,
      `${eventsPath(finished.workflowId, finished.runId)}?last_event_id=${middle}`,
      t.alice.token,
      { "last-event-id": finished.events[5].id },
    );
    await both.closed;
    expect(both.events).toEqual(finished.events.slice(6));
  });

  it("answers 204 once a final run has nothing after the id, so EventSource stops reconnecting", async () => {
    const res = await t.app.request(eventsPath(finished.workflowId, finished.runId), {
      headers: { authorization: `Bearer ${t.alice.token}`, "last-event-id": finished.events.at(-1)!.id },
    });
    expect(res.status).toBe(204);
  });

  it("resumes a live run mid-way without losing or repeating events", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [
      { name: "a", config: http("/a?ms=500") },
      { name: "b", config: http("/b?ms=500") },
    ]);
    const runId = await execute(workflowId);
    const first = await openStream(t.app, eventsPath(workflowId, runId), t.alice.token);
    const seen = await first.waitFor((e) =>
      e.event === "node" && e.data.node_name === "a" && e.data.status === "running"
    );
    await first.cancel();
    // The disconnected client's subscription is gone from the process's hub.
    const hub = t.events;
    for (let i = 0; i < 50 && hub.subscriberCount; i++) await new Promise((r) => setTimeout(r, 20));
    expect(hub.subscriberCount).toBe(0);
    const second = await openStream(t.app, eventsPath(workflowId, runId), t.alice.token, { "last-event-id": seen.id });
    await second.closed;
    const upToSeen = first.events.slice(0, first.events.indexOf(seen) + 1);
    expect([...upToSeen, ...second.events].map(summary)).toEqual([
      "run pending",
      "run running",
      "node a running",
      "node a succeeded",
      "node b running",
      "node b succeeded",
      "run succeeded",
    ]);
  });
});

describe("GET a run with ?wait", () => {
  const getRun = (wf: string, run: string, query: string, token = t.alice.token) =>
    call(t.app, "GET", `/api/workflows/${wf}/runs/${run}${query}`, { token });

  it("answers as soon as the run ends, not before and without polling", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [{ name: "slowish", config: http("/w?ms=1500") }]);
    const runId = await execute(workflowId);
    const began = Date.now();
    const res = await getRun(workflowId, runId, "?wait=30");
    const took = Date.now() - began;
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("succeeded");
    expect(res.body.node_executions[0].output.body.path).toBe("/w");
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(10_000);
    // A finished run is answered at once.
    const again = Date.now();
    expect((await getRun(workflowId, runId, "?wait=30")).body.status).toBe("succeeded");
    expect(Date.now() - again).toBeLessThan(1000);
  });

  it("answers with the unfinished run once the wait is over; refuses a wait out of range", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [{ name: "long", config: http("/long?ms=5000") }]);
    const runId = await execute(workflowId);
    const began = Date.now();
    const res = await getRun(workflowId, runId, "?wait=1");
    expect(res.status).toBe(200);
    expect(["pending", "running"]).toContain(res.body.status);
    expect(Date.now() - began).toBeGreaterThanOrEqual(900);
    expect(Date.now() - began).toBeLessThan(4000);
    for (const bad of ["?wait=61", "?wait=-1", "?wait=soon"]) {
      const refused = await getRun(workflowId, runId, bad);
      expect(refused.status, bad).toBe(400);
      expect(refused.body.error.code).toBe("VALIDATION_ERROR");
    }
    expect((await getRun(workflowId, runId, "?wait=5", t.bob.token)).status).toBe(404);
  });
});

describe("idle streams", () => {
  it("get a keep-alive comment per heartbeat interval, not more", async () => {
    const saved = t.events.heartbeatMs;
    t.events.heartbeatMs = 300;
    try {
      const { workflowId } = await buildWorkflow(t.app, t.alice.token, [{
        name: "idle",
        config: http("/idle?ms=2000"),
      }]);
      const runId = await execute(workflowId);
      const stream = await openStream(t.app, eventsPath(workflowId, runId), t.alice.token);
      await stream.waitFor((e) => e.event === "node" && e.data.status === "running");
      const before = stream.comments.length;
      await new Promise((r) => setTimeout(r, 1500));
      const during = stream.comments.length - before;
      expect(during).toBeGreaterThanOrEqual(3);
      expect(during).toBeLessThanOrEqual(6);
      expect(stream.comments.every((c) => c === ": keep-alive")).toBe(true);
      await stream.closed;
      expect(stream.events.at(-1)!.data.status).toBe("succeeded");
    } finally {
      t.events.heartbeatMs = saved;
    }
  });
});

describe("access", () => {
  it("is 404 for another user's run and an unknown run, 401 without a token, 400 for a bad id", async () => {
    const path = eventsPath(finished.workflowId, finished.runId);
    const other = await call(t.app, "GET", path, { token: t.bob.token });
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe("NOT_FOUND");
    expect(
      (await call(t.app, "GET", eventsPath(finished.workflowId, crypto.randomUUID()), { token: t.alice.token }))
        .status,
    ).toBe(404);
    expect((await call(t.app, "GET", path)).status).toBe(401);
    expect((await call(t.app, "GET", `${path}?last_event_id=abc`, { token: t.alice.token })).status).toBe(400);
  });

  it("is documented in the OpenAPI document as an event stream", async () => {
    const doc = (await call(t.app, "GET", "/openapi.json")).body;
    const op = doc.paths["/api/workflows/{id}/runs/{run_id}/events"].get;
    expect(Object.keys(op.responses["200"].content)).toEqual(["text/event-stream"]);
  });
});

describe("events of any type", () => {
  it("streams events appended with appendRunEvent, in order with status events", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [{ name: "llm", config: http("/llm?ms=1500") }]);
    const runId = await execute(workflowId);
    const stream = await openStream(t.app, eventsPath(workflowId, runId), t.alice.token);
    await stream.waitFor((e) => e.event === "node" && e.data.status === "running");
    await appendRunEvent(t.sql, runId, "token", { node_name: "llm", seq: 0, text: "Hel" });
    await appendRunEvent(t.sql, runId, "token", { node_name: "llm", seq: 1, text: 'lo\n"world"' });
    const tokens = await Promise.all(
      [0, 1].map((seq) => stream.waitFor((e) => e.event === "token" && e.data.seq === seq)),
    );
    expect(tokens.map((e) => e.data.text)).toEqual(["Hel", 'lo\n"world"']);
    await stream.closed;
    expect(stream.events.map(summary)).toEqual([
      "run pending",
      "run running",
      "node llm running",
      "token",
      "token",
      "node llm succeeded",
      "run succeeded",
    ]);
    await expect(appendRunEvent(t.sql, runId, "bad\nname", {})).rejects.toThrow(/invalid run event type/);
  });

  it("delivers concurrent appends from many connections to every client once each, in id order", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [{ name: "slow", config: http("/slow?ms=3000") }]);
    const runId = await execute(workflowId);
    const streams = await Promise.all(
      [1, 2, 3].map(() => openStream(t.app, eventsPath(workflowId, runId), t.alice.token)),
    );
    await Promise.all(streams.map((s) => s.waitFor((e) => e.event === "node" && e.data.status === "running")));
    await Promise.all(Array.from({ length: 200 }, (_, seq) => appendRunEvent(t.sql, runId, "token", { seq })));
    await Promise.all(streams.map((s) => s.closed));
    for (const s of streams) {
      const seqs = s.events.filter((e) => e.event === "token").map((e) => e.data.seq).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i));
      const ids = s.events.map((e) => BigInt(e.id));
      for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1]).toBe(true);
      expect(s.events.at(-1)!.data.status).toBe("succeeded");
    }
  });

  it("makes ids visible in commit order: an append waits while another transaction of the run holds one", async () => {
    const runId = finished.runId;
    let releaseFirst!: () => void;
    const held = new Promise<void>((r) => (releaseFirst = r));
    let firstId = "";
    const first = t.sql.begin(async (tx) => {
      firstId = await appendRunEvent(tx as never, runId, "probe", { n: 1 });
      await held;
    });
    while (!firstId) await new Promise((r) => setTimeout(r, 10));
    let secondId = "";
    const second = appendRunEvent(t.sql, runId, "probe", { n: 2 }).then((id) => (secondId = id));
    await new Promise((r) => setTimeout(r, 300));
    expect(secondId).toBe("");
    releaseFirst();
    await Promise.all([first, second]);
    expect(BigInt(secondId) > BigInt(firstId)).toBe(true);
    await t.sql`DELETE FROM run_events WHERE type = 'probe'`;
  });

  it("leaves outputs over 64 KB out of the event, flagged", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [{ name: "big", config: http("/big") }]);
    const runId = await execute(workflowId);
    const stream = await openStream(t.app, eventsPath(workflowId, runId), t.alice.token);
    await stream.closed;
    const node = stream.events.find((e) => e.event === "node" && e.data.status === "succeeded")!;
    expect(node.data.output).toBeUndefined();
    expect(node.data.output_omitted).toBe(true);
    expect(node.data.output_bytes).toBeGreaterThan(100_000);
    expect(stream.events.at(-1)!.data).toMatchObject({ status: "succeeded", output_omitted: true });
  });
});

describe("PostgreSQL only", () => {
  it("streams a live run through an app whose Temporal client throws on any use", async () => {
    const noTemporal = new Proxy({}, {
      get: () => {
        throw new Error("the event stream must not call Temporal");
      },
    }) as TemporalApi;
    const config = loadConfig({
      DATABASE_URL: "postgres://unused",
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_REQUESTS: "false",
      WEFT_READ_CACHE: "false",
    });
    const app = createApp({ config, sql: t.sql, temporal: noTemporal, logger: createLogger({ test: true }, "warn") });
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [{ name: "only", config: http("/only?ms=500") }]);
    const runId = await execute(workflowId);
    const stream = await openStream(app, eventsPath(workflowId, runId), t.alice.token);
    expect(stream.res.status).toBe(200);
    await stream.closed;
    expect(stream.events.map(summary)).toEqual([
      "run pending",
      "run running",
      "node only running",
      "node only succeeded",
      "run succeeded",
    ]);
    await waitForRun(t.app, t.alice.token, workflowId, runId);
  });
});

describe("shutdown", () => {
  it("closing the event hub ends the open streams, so a graceful shutdown need not wait for runs to end", async () => {
    const sql = connect(TEST_DATABASE_URL, { max: 2 });
    try {
      const config = loadConfig({ JWT_SECRET: TEST_JWT_SECRET, LOG_REQUESTS: "false", WEFT_READ_CACHE: "false" });
      const logger = createLogger({ test: true }, "warn");
      const events = new RunEventHub(sql, logger);
      const app = createApp({ config, sql, temporal: t.temporalHttp, logger, events });
      const { workflowId } = await buildWorkflow(t.app, t.alice.token, [{
        name: "long",
        config: http("/long?ms=4000"),
      }]);
      const runId = await execute(workflowId);
      const stream = await openStream(app, eventsPath(workflowId, runId), t.alice.token);
      await stream.waitFor((e) => e.event === "run");
      events.closeAll();
      expect(await stream.closedWithin(1000)).toBe(true);
      expect((await call(app, "GET", eventsPath(workflowId, runId), { token: t.alice.token })).status).toBe(503);
      await waitForRun(t.app, t.alice.token, workflowId, runId);
    } finally {
      await sql.end();
    }
  });
});
