/**
 * A group of sibling nodes as one activity, in Temporal's mock activity environment: members retry on their
 * own policies, fail_fast cancels siblings, large outputs go back by reference. No PostgreSQL, no server.
 */
import { ApplicationFailure } from "@temporalio/common";
import { describe, expect, it } from "vitest";
import type { ExecuteNodeGroupInput, GroupOutcome, SnapshotNode } from "../core/contract.ts";
import { createNodeGroup } from "./node-group.ts";
import type { Handler } from "./node-handlers.ts";
import { attemptRunner, handler, mockEnvironment, noSql } from "../test/node-attempts.ts";
import type { RunGuard } from "./runs/run-guard.ts";

const guard = { forNodes: () => Promise.resolve() } as unknown as RunGuard;

let ids = 0;
const member = (type: string, config: Record<string, unknown> = {}): SnapshotNode => ({
  id: `00000000-0000-4000-8000-${String(++ids).padStart(12, "0")}`,
  name: `${type}_${ids}`,
  type,
  config: { retry: { initial_interval_ms: 1, max_attempts: 3 }, ...config },
});

function runGroup(handlers: Record<string, Handler>, members: SnapshotNode[], failFast = false) {
  const attempts = attemptRunner(handlers);
  const executeNodeGroup = createNodeGroup({ sql: noSql, guard, runAttempt: attempts.runAttempt });
  const group: ExecuteNodeGroupInput = {
    runId: "run-1",
    input: {},
    nodes: {},
    members: members.map((node) => ({ node, reads: [] })),
    failFast,
  };
  const env = mockEnvironment();
  return { env, attempts, done: env.run(() => executeNodeGroup(group)) as Promise<GroupOutcome[]> };
}

/** Fails `times` times with `failure`, then succeeds. */
function flaky(times: number, failure: () => Error) {
  let calls = 0;
  return handler(() => (++calls <= times ? Promise.reject(failure()) : Promise.resolve({ calls })));
}

describe("a node group", () => {
  it("retries each member on its own policy and records every attempt", async () => {
    const { attempts, done } = runGroup(
      {
        flaky: flaky(2, () => new Error("blip")),
        broken: handler(() => Promise.reject(ApplicationFailure.nonRetryable("bad", "InvalidConfig"))),
      },
      [member("flaky"), member("broken")],
    );
    expect(await done).toEqual([
      { status: "succeeded", output: { calls: 3 } },
      { status: "failed", error: { message: "bad", type: "InvalidConfig", retryable: false } },
    ]);
    const byType = (type: string) => attempts.started.filter((s) => s.type === type).map((s) => s.attempt);
    expect(byType("flaky")).toEqual([1, 2, 3]);
    expect(byType("broken")).toEqual([1]);
  });

  it("stops at max_attempts and at a code the node names non-retryable", async () => {
    const unavailable = () => ApplicationFailure.retryable("down", "HTTP_503");
    const { done } = runGroup({ down: flaky(9, unavailable) }, [
      member("down", { retry: { initial_interval_ms: 1, max_attempts: 2 } }),
      member("down", { retry: { initial_interval_ms: 1, max_attempts: 5, non_retryable_error_codes: ["HTTP_503"] } }),
    ]);
    const outcomes = await done;
    expect(outcomes.map((o) => o.status)).toEqual(["failed", "failed"]);
    expect(outcomes[0]).toMatchObject({ error: { type: "HTTP_503", retryable: true } });
  });

  it("fail_fast: a member's final failure cancels the members still running", async () => {
    const { attempts, done } = runGroup(
      {
        bad: handler(() => Promise.reject(ApplicationFailure.nonRetryable("no", "InvalidConfig"))),
        hang: handler((_config, _context, signal) =>
          new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)))
        ),
      },
      [member("bad"), member("hang")],
      true,
    );
    expect((await done).map((o) => o.status)).toEqual(["failed", "cancelled"]);
    expect(attempts.finished.map((f) => f.status).sort()).toEqual(["cancelled", "failed"]);
  });

  it("hands the largest outputs back by reference when the group's outputs are large together", async () => {
    const big = (n: number) => handler(() => Promise.resolve("x".repeat(n)));
    const { done } = runGroup({ a: big(200_000), b: big(200_000), c: big(200_000), d: big(10) }, [
      member("a"),
      member("b"),
      member("c"),
      member("d"),
    ]);
    const outcomes = await done;
    const refs = outcomes.filter((o) => o.status === "succeeded" && typeof o.output === "object");
    expect(refs).toHaveLength(1);
    expect(outcomes[3]).toEqual({ status: "succeeded", output: "x".repeat(10) });
  });

  it("cancelling the activity cancels its members and fails the activity", async () => {
    const { env, done } = runGroup({
      hang: handler((_config, _context, signal) =>
        new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)))
      ),
    }, [member("hang"), member("hang")]);
    setTimeout(() => env.cancel(), 50);
    await expect(done).rejects.toBeDefined();
  });
});
