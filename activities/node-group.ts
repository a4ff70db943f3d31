/**
 * Sibling nodes as one activity (the workflow's executeNodeGroup): each member runs at once with its own retry
 * policy and timeout, retried here rather than by Temporal, every attempt recorded as for a lone node.
 */
import { Context } from "@temporalio/activity";
import { ApplicationFailure } from "@temporalio/common";
import {
  type ExecuteNodeGroupInput,
  type GroupOutcome,
  type NodeError,
  outputRef,
  type SnapshotNode,
} from "../core/contract.ts";
import { backoffMs, failsForGood, nodePolicy, RECORD_SLACK_MS } from "../core/node-policy.ts";
import { INLINE_OUTPUT_LIMIT_BYTES, isOutputRef, jsonBytes } from "../core/output-ref.ts";
import type { Sql } from "../db/client.ts";
import { ATTEMPT_LOST } from "../db/lost-attempts.ts";
import { deadlineSignal } from "./deadline.ts";
import { describeError } from "./errors.ts";
import { msOf, type RunAttempt } from "./node-attempt.ts";
import type { RunGuard } from "./runs/run-guard.ts";

const HEARTBEAT_EVERY_MS = 1000;

export interface NodeGroupDeps {
  sql: Sql;
  guard: RunGuard;
  runAttempt: RunAttempt;
}

/**
 * The group activity: returns each member's outcome. When this activity is itself retried (its worker died),
 * members that already ended keep their recorded outcome and the others go on from their next attempt.
 */
export function createNodeGroup({ sql, guard, runAttempt }: NodeGroupDeps) {
  return async function executeNodeGroup(group: ExecuteNodeGroupInput): Promise<GroupOutcome[]> {
    const ctx = Context.current();
    const { runId, members } = group;
    const counts = { running: members.length, succeeded: 0, failed: 0, cancelled: 0 };
    // As in executeNode: heartbeats start before the guard's lookup, so a slow query is not taken for a dead worker.
    const heartbeat = setInterval(() => ctx.heartbeat(counts), HEARTBEAT_EVERY_MS);
    const controllers = members.map(() => new AbortController());
    const cancelOthers = (failed: string) => {
      for (const c of controllers) {
        if (!c.signal.aborted) c.abort(new Error(`cancelled: node "${failed}" failed and the workflow fails fast`));
      }
    };
    try {
      await guard.forNodes(runId, members.map((m) => m.node), { input: group.input, nodes: group.nodes });
      const ids = members.map((m) => m.node.id);
      const recorded = ctx.info.attempt > 1 ? await recordedAttempts(sql, runId, ids) : new Map<string, LastAttempt>();
      const outcomes = await Promise.all(members.map(async (m, i): Promise<GroupOutcome> => {
        const signal = AbortSignal.any([ctx.cancellationSignal, controllers[i].signal]);
        const context = {
          input: group.input,
          nodes: Object.fromEntries(m.reads.map((name) => [name, group.nodes[name]])),
          run: { id: runId },
        };
        const outcome = await runMember(runAttempt, runId, m.node, context, recorded.get(m.node.id), signal);
        counts.running--;
        counts[outcome.status]++;
        if (outcome.status === "failed" && group.failFast) cancelOthers(m.node.name);
        return outcome;
      }));
      if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      return fitOutcomes(runId, members, outcomes);
    } finally {
      clearInterval(heartbeat);
    }
  };
}

/** A member's last recorded attempt, when the group activity is itself retried. */
export interface LastAttempt {
  attempt: number;
  status: string;
  output: unknown;
  error: unknown;
}

/** Each member's last attempt; attempts still marked running died with their worker or timed out. */
async function recordedAttempts(sql: Sql, runId: string, ids: string[]): Promise<Map<string, LastAttempt>> {
  await sql`UPDATE node_executions SET status = 'failed', finished_at = now(), error = ${sql.json(ATTEMPT_LOST)}
    WHERE run_id = ${runId} AND node_id IN ${sql(ids)} AND status = 'running'`;
  const rows = await sql`
    SELECT DISTINCT ON (node_id) node_id, attempt, status, output, error FROM node_executions
    WHERE run_id = ${runId} AND node_id IN ${sql(ids)} AND attempt > 0 ORDER BY node_id, attempt DESC`;
  return new Map(rows.map((r) => [r.node_id as string, r as never]));
}

/** One member (or map item) through its attempts and backoffs, from where its last recorded attempt left it. */
export async function runMember(
  runAttempt: RunAttempt,
  runId: string,
  node: SnapshotNode,
  context: Record<string, unknown>,
  last: LastAttempt | undefined,
  signal: AbortSignal,
): Promise<GroupOutcome> {
  const policy = nodePolicy(node.config);
  const lastError = last?.error as NodeError | null | undefined;
  if (last?.status === "succeeded") return { status: "succeeded", output: last.output };
  // Otherwise the last attempt failed, was lost with its worker, or was cancelled by a worker shutting down
  // (a cancelled run never retries its group): go on unless that failure was final.
  if (last && lastError && (!lastError.retryable || last.attempt >= policy.maxAttempts)) {
    return { status: "failed", error: lastError };
  }
  for (let attempt = (last?.attempt ?? 0) + 1;; attempt++) {
    // The attempt's outer deadline, as Temporal's start-to-close timeout gives a lone node (timeout_ms itself
    // is enforced inside runAttempt). A plain timer: see deadline.ts.
    const deadline = deadlineSignal(signal, policy.timeoutMs + RECORD_SLACK_MS, () => new Error("deadline"));
    try {
      const output = await runAttempt({ runId, node, context }, attempt, deadline.signal);
      return { status: "succeeded", output };
    } catch (err) {
      if (signal.aborted) return { status: "cancelled" };
      const error = deadline.signal.aborted
        ? {
          message: `attempt timed out after ${policy.timeoutMs + RECORD_SLACK_MS} ms`,
          type: "Timeout",
          retryable: true,
        }
        : describeError(err);
      if (failsForGood(policy, error, attempt)) {
        return { status: "failed", error };
      }
      // A Retry-After the handler passed on wins over the policy's backoff, as it does with Temporal.
      const asked = err instanceof ApplicationFailure ? msOf(err.nextRetryDelay) : undefined;
      if (!(await sleep(asked ?? backoffMs(policy, attempt), signal))) return { status: "cancelled" };
    } finally {
      deadline.clear();
    }
  }
}

/**
 * Inline outputs of a group share one Temporal payload: the largest go by reference above GROUP_INLINE_BYTES
 * in all, and any above INLINE_OUTPUT_LIMIT_BYTES.
 */
function fitOutcomes(runId: string, members: { node: SnapshotNode }[], outcomes: GroupOutcome[]) {
  const sizes = outcomes.map((o) => (o.status === "succeeded" && !isOutputRef(o.output) ? jsonBytes(o.output) : 0));
  let total = sizes.reduce((a, b) => a + b, 0);
  const largestFirst = sizes.map((bytes, i) => ({ bytes, i })).sort((a, b) => b.bytes - a.bytes);
  for (const { bytes, i } of largestFirst) {
    // An output recorded by an earlier attempt of the group comes back whole from PostgreSQL: above the
    // inline limit it goes by reference like any other.
    if ((total <= GROUP_INLINE_BYTES && bytes <= INLINE_OUTPUT_LIMIT_BYTES) || bytes === 0) break;
    outcomes[i] = { status: "succeeded", output: outputRef(runId, members[i].node.id, bytes) };
    total -= bytes;
  }
  return outcomes;
}

/** Above this many bytes of inline outputs, a group's largest outputs are handed back by reference. */
const GROUP_INLINE_BYTES = 512 * 1024;

/** Waits `ms`, or less when the signal aborts; true when it waited the whole time. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (waited: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(waited);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener("abort", onAbort);
  });
}
