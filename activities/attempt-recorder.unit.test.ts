/**
 * How a node attempt writes node_executions (attempt-recorder.ts), with a fake log: one row for a short attempt,
 * a running row then its end for a long one, and a finished run refused before a handler with effects acts.
 */
import { describe, expect, it } from "vitest";
import type { ExecuteNodeInput, SnapshotNode } from "../core/contract.ts";
import { attemptRunner, fakeLog, handler, mockEnvironment, noSql } from "../test/node-attempts.ts";
import { createAttemptRunner } from "./node-attempt.ts";
import { RUNNING_ROW_AFTER_MS } from "./attempt-recorder.ts";

const node = (type: string, config: Record<string, unknown> = {}): SnapshotNode => ({
  id: "00000000-0000-4000-8000-000000000002",
  name: "n",
  type,
  config,
});
const input = (n: SnapshotNode): ExecuteNodeInput => ({ runId: "run-1", node: n, context: { input: {}, nodes: {} } });
const attempt = (runAttempt: ReturnType<typeof attemptRunner>["runAttempt"], n: SnapshotNode) => {
  const env = mockEnvironment();
  return env.run(() => runAttempt(input(n), 1, env.context.cancellationSignal));
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("an attempt's node_executions writes", () => {
  it("a short attempt is one row with its final status, after a liveness read", async () => {
    const a = attemptRunner({ http_request: handler((config) => Promise.resolve({ got: config })) }, {}, true, true);
    await expect(attempt(a.runAttempt, node("http_request", { v: 1 }))).resolves.toEqual({ got: { v: 1 } });
    expect(a.started).toEqual([]);
    expect(a.finished).toEqual([]);
    expect(a.recorded).toEqual([{
      run_id: "run-1",
      node_id: node("x").id,
      node_name: "n",
      type: "http_request",
      attempt: 1,
      execution: "activity",
      input: { v: 1 },
      status: "succeeded",
      output: { got: { v: 1 } },
      error: null,
    }]);
    expect(a.liveReads).toEqual(["run-1"]);
  });

  it("a side-effect-free node reads nothing first; a failure is one row too", async () => {
    const a = attemptRunner({ transform: handler(() => Promise.reject(new Error("bad"))) }, {}, true, true);
    await expect(attempt(a.runAttempt, node("transform"))).rejects.toThrow("bad");
    expect(a.liveReads).toEqual([]);
    expect(a.recorded).toMatchObject([{ status: "failed", output: undefined, error: { message: "bad" } }]);
  });

  it("a long attempt shows running after a moment, then its row is updated", async () => {
    const slow = handler(async () => {
      await sleep(RUNNING_ROW_AFTER_MS + 150);
      return "done";
    });
    const a = attemptRunner({ http_request: slow }, {}, true, true);
    const began = Date.now();
    await expect(attempt(a.runAttempt, node("http_request"))).resolves.toBe("done");
    expect(Date.now() - began).toBeGreaterThanOrEqual(RUNNING_ROW_AFTER_MS);
    expect(a.started).toHaveLength(1);
    // started_at is back-dated to when the attempt began.
    expect(a.started[0].elapsed_ms).toBeGreaterThanOrEqual(RUNNING_ROW_AFTER_MS - 5);
    expect(a.finished).toEqual([{ id: 1, run_id: "run-1", status: "succeeded", output: "done", error: null }]);
    expect(a.recorded).toEqual([]);
  });

  it("a finished run is refused before a handler with effects runs, and nothing is written", async () => {
    let ran = false;
    const a = attemptRunner({ http_request: handler(() => Promise.resolve(ran = true)) }, {}, false, true);
    await expect(attempt(a.runAttempt, node("http_request"))).rejects.toMatchObject({ type: "RunNotAuthorized" });
    expect(ran).toBe(false);
    expect([a.started, a.finished, a.recorded]).toEqual([[], [], []]);
  });

  it("a side-effect-free node of a finished run is refused by its one write", async () => {
    const a = attemptRunner({ transform: handler(() => Promise.resolve(1)) }, {}, false, true);
    await expect(attempt(a.runAttempt, node("transform"))).rejects.toMatchObject({
      type: "RunNotAuthorized",
      nonRetryable: true,
    });
    expect([a.started, a.finished, a.recorded]).toEqual([[], [], []]);
  });

  it("an attempt whose config cannot be prepared is one failed row with no input", async () => {
    const a = attemptRunner({}, {}, true, true);
    await expect(attempt(a.runAttempt, node("nope"))).rejects.toMatchObject({ type: "UnknownNodeType" });
    expect(a.recorded).toMatchObject([{ input: null, status: "failed", error: { type: "UnknownNodeType" } }]);
  });

  it("a group member writes its running row first, whatever its length", async () => {
    const recorded = fakeLog(true, true);
    const runAttempt = createAttemptRunner({
      sql: noSql,
      handlers: { http_request: handler(() => Promise.resolve("quick")) },
      render: (config) => Promise.resolve(config),
      resolveSecrets: () => Promise.resolve({}),
      log: recorded.log,
      runningRowFirst: true,
    });
    await expect(attempt(runAttempt, node("http_request"))).resolves.toBe("quick");
    expect(recorded.started).toHaveLength(1);
    expect(recorded.finished).toMatchObject([{ id: 1, status: "succeeded", output: "quick" }]);
    expect([recorded.recorded, recorded.liveReads]).toEqual([[], []]);
  });
});
