/**
 * A node run as a local activity reaches Temporal's history only when its workflow task completes: if the worker
 * dies first, another worker replays the task and asks for the same nodes again. A node runs once per run, so an
 * attempt goes on from the node's last recorded attempt (node_executions), read here when Temporal's attempt is
 * past the first or the first one's write found the attempt recorded (execute-node.ts executeLocally): a success is
 * answered from the row without running again, a final failure is failed again, a lost attempt is closed as
 * `AttemptLost` and the next attempt number taken (docs/engine.md, Local activities).
 */
import type { FailureType, NodeError, SnapshotNode } from "../core/contract.ts";
import { failsForGood, nodePolicy } from "../core/node-policy.ts";
import { inlineOrRef, LOCAL_INLINE_OUTPUT_LIMIT_BYTES } from "../core/output-ref.ts";
import type { Sql } from "../db/client.ts";
import { recordLostAttempts } from "../db/lost-attempts.ts";
import { nonRetryable } from "./errors.ts";

interface RecordedAttempt {
  attempt: number;
  status: string;
  output: unknown;
  error: NodeError | null;
}

/** What a local attempt does: answer a recorded success, or run as attempt `attempt`. */
export type LocalStart = { done: true; output: unknown } | { done: false; attempt: number };

/**
 * Looks at the node's recorded attempts before a local attempt `temporalAttempt` (Temporal's count, which starts
 * again at 1 when the workflow task is retried on another worker). Throws the recorded failure when it was final.
 */
export async function resumeLocalNode(
  sql: Sql,
  runId: string,
  node: SnapshotNode,
  temporalAttempt: number,
): Promise<LocalStart> {
  const [last] = await sql<RecordedAttempt[]>`
    SELECT attempt, status, output, error FROM node_executions
    WHERE run_id = ${runId} AND node_id = ${node.id} AND attempt > 0 ORDER BY attempt DESC LIMIT 1`;
  if (last?.status === "succeeded") {
    return { done: true, output: inlineOrRef(runId, node.id, last.output, LOCAL_INLINE_OUTPUT_LIMIT_BYTES) };
  }
  const policy = nodePolicy(node.config);
  const error = last?.status === "failed" ? last.error : null;
  if (last && error && failsForGood(policy, error, last.attempt)) {
    throw nonRetryable(error.type as FailureType, error.message);
  }
  const attempt = Math.max(temporalAttempt, (last?.attempt ?? 0) + 1);
  // Closes an attempt left running by a dead worker and fills in attempt numbers that never got a row.
  if (attempt > 1) await recordLostAttempts(sql, runId, node, attempt, "local");
  return { done: false, attempt };
}
