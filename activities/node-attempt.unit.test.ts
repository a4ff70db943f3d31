/**
 * One node attempt with fake handlers and a fake attempt log, in Temporal's mock activity environment: no
 * PostgreSQL (contexts without references never read it), no Temporal server.
 */
import { ApplicationFailure } from "@temporalio/common";
import { describe, expect, it } from "vitest";
import type { ExecuteNodeInput, SnapshotNode } from "../core/contract.ts";
import { INLINE_OUTPUT_LIMIT_BYTES, LOCAL_INLINE_OUTPUT_LIMIT_BYTES } from "../core/output-ref.ts";
import { attemptRunner, handler, mockEnvironment } from "../test/node-attempts.ts";
import { nonRetryable } from "./errors.ts";
import { EarlierAttempt } from "./node-attempt.ts";

const node = (type: string, config: Record<string, unknown> = {}): SnapshotNode => ({
  id: "00000000-0000-4000-8000-000000000001",
  name: "n",
  type,
  config,
});
const input = (n: SnapshotNode): ExecuteNodeInput => ({ runId: "run-1", node: n, context: { input: {}, nodes: {} } });
const attempt = (runAttempt: ReturnType<typeof attemptRunner>["runAttempt"], n: SnapshotNode) => {
  const env = mockEnvironment();
  return env.run(() => runAttempt(input(n), 1, env.context.cancellationSignal));
};

describe("a node attempt", () => {
  it("records the rendered input, runs the handler and records its output", async () => {
    const a = attemptRunner({ echo: handler((config) => Promise.resolve({ got: config })) });
    await expect(attempt(a.runAttempt, node("echo", { v: 1 }))).resolves.toEqual({ got: { v: 1 } });
    expect(a.started).toMatchObject([{ run_id: "run-1", node_name: "n", type: "echo", attempt: 1, input: { v: 1 } }]);
    expect(a.finished).toEqual([{
      id: 1,
      run_id: "run-1",
      status: "succeeded",
      output: { got: { v: 1 } },
      error: null,
    }]);
  });

  it("hands a large output back by reference; the log keeps it whole", async () => {
    const big = "x".repeat(INLINE_OUTPUT_LIMIT_BYTES);
    const a = attemptRunner({ big: handler(() => Promise.resolve(big)) });
    const n = node("big");
    await expect(attempt(a.runAttempt, n)).resolves.toEqual({
      $weft_ref: { run_id: "run-1", node_id: n.id, bytes: big.length + 2 },
    });
    expect(a.finished[0].output).toBe(big);
  });

  it("run locally, hands back by reference from a far smaller size: its output rides the workflow task", async () => {
    const medium = "x".repeat(LOCAL_INLINE_OUTPUT_LIMIT_BYTES);
    const a = attemptRunner({ medium: handler(() => Promise.resolve(medium)) });
    const n = node("medium");
    const env = mockEnvironment();
    const ref = { $weft_ref: { run_id: "run-1", node_id: n.id, bytes: medium.length + 2 } };
    await expect(env.run(() => a.runAttempt(input(n), 1, env.context.cancellationSignal, "local"))).resolves
      .toEqual(ref);
    // The same output from a regular activity stays inline.
    await expect(attempt(a.runAttempt, n)).resolves.toBe(medium);
  });

  it("an unknown node type fails without retrying, recorded with no input", async () => {
    const a = attemptRunner({});
    await expect(attempt(a.runAttempt, node("nope"))).rejects.toMatchObject({
      type: "UnknownNodeType",
      nonRetryable: true,
    });
    expect(a.started[0].input).toBeNull();
    expect(a.finished[0]).toMatchObject({ status: "failed", error: { type: "UnknownNodeType", retryable: false } });
  });

  it("records the handler's failure as it is", async () => {
    const a = attemptRunner({ bad: handler(() => Promise.reject(nonRetryable("InvalidConfig", "no url"))) });
    await expect(attempt(a.runAttempt, node("bad"))).rejects.toMatchObject({ type: "InvalidConfig" });
    expect(a.finished[0].error).toEqual({ message: "no url", type: "InvalidConfig", retryable: false });
  });

  it("fails with a retryable Timeout at timeout_ms", async () => {
    const a = attemptRunner({ slow: handler(() => new Promise(() => {})) });
    const started = Date.now();
    await expect(attempt(a.runAttempt, node("slow", { timeout_ms: 50 }))).rejects.toMatchObject({ type: "Timeout" });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(a.finished[0]).toMatchObject({ status: "failed", error: { type: "Timeout", retryable: true } });
  });

  it("scrubs the secret from what is recorded, returned and thrown", async () => {
    const secret = "s3cr3t-value";
    const leak = handler((config) => Promise.resolve({ echoed: config.headers }));
    const a = attemptRunner({ http_request: leak }, { TOKEN: secret });
    const n = node("http_request", { headers: { authorization: "{{secrets.TOKEN}}" } });
    const output = await attempt(a.runAttempt, n);
    expect(JSON.stringify([output, a.started, a.finished])).not.toContain(secret);

    const fail = handler(() => Promise.reject(ApplicationFailure.retryable(`denied for ${secret}`, "HTTP_401")));
    const b = attemptRunner({ http_request: fail }, { TOKEN: secret });
    const thrown = await attempt(b.runAttempt, n).then(() => null, (err: ApplicationFailure) => err);
    expect(thrown).toMatchObject({ type: "HTTP_401" });
    expect(JSON.stringify([thrown?.message, thrown?.stack, b.finished])).not.toContain(secret);
  });

  it("refuses a secret inside an expression before reading any secret", async () => {
    const a = attemptRunner({ http_request: handler(() => Promise.resolve(1)) }, { TOKEN: "x" });
    const n = node("http_request", { url: "{{ $uppercase(secrets.TOKEN) }}" });
    await expect(attempt(a.runAttempt, n)).rejects.toMatchObject({ type: "SecretInExpression" });
  });

  it("writes nothing more for a run that has finished", async () => {
    const a = attemptRunner({ echo: handler(() => Promise.resolve(1)) }, {}, false);
    await expect(attempt(a.runAttempt, node("echo"))).rejects.toMatchObject({ type: "RunNotAuthorized" });
    expect(a.finished).toEqual([]);
  });

  it("a fresh local try whose write is refused says EarlierAttempt, before an effectful handler acts", async () => {
    let acted = 0;
    const act = handler(() => Promise.resolve(++acted));
    for (const lean of [false, true]) {
      const a = attemptRunner({ http_request: act, transform: act }, {}, false, lean);
      const env = mockEnvironment();
      const fresh = (type: string) =>
        env.run(() => a.runAttempt(input(node(type)), 1, env.context.cancellationSignal, "local", true));
      await expect(fresh("http_request")).rejects.toBeInstanceOf(EarlierAttempt);
      expect(acted).toBe(0);
      // A transform acts on nothing outside the worker: it runs, and its one write finds the attempt recorded.
      await expect(fresh("transform")).rejects.toBeInstanceOf(EarlierAttempt);
      acted = 0;
    }
  });

  it("a fresh try writes its rows marked fresh (an earlier try's row is kept, not taken over)", async () => {
    const a = attemptRunner({ http_request: handler(() => Promise.resolve(1)) }, {}, true, true);
    const env = mockEnvironment();
    await env.run(() => a.runAttempt(input(node("http_request")), 1, env.context.cancellationSignal, "local", true));
    expect(a.started).toMatchObject([{ attempt: 1, execution: "local", fresh: true }]);
  });
});
