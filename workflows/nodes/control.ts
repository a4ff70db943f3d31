/**
 * What the control-flow nodes share: the run they belong to, its waits, the execution row each keeps (one per
 * node, attempt 1, like an approval's), and the templates they render in the worker's expression pool.
 */
import { ApplicationFailure, isCancellation } from "@temporalio/workflow";
import type { FailureType, NodeError, RunDagInput, SnapshotNode } from "../../core/contract.ts";
import { bookkeeping, expressionActivities, record } from "../activity-options.ts";
import type { NodeContext } from "../run-state.ts";
import type { RunWaits } from "../waits.ts";

export interface ControlDeps {
  args: RunDagInput;
  waits: RunWaits;
}

export type ControlRunner = (node: SnapshotNode, context: NodeContext) => Promise<unknown>;

/** Renders a config value's `{{ }}` templates over the node's context (as the worker does for any node). */
export async function renderInput(
  value: Record<string, unknown>,
  context: NodeContext,
): Promise<Record<string, unknown>> {
  if (!JSON.stringify(value).includes("{{")) return value;
  return await expressionActivities.renderNodeInput({ value, context });
}

/** A failure that ends the node at once, recorded with its type. */
export function nodeFailure(type: FailureType, message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type);
}

/**
 * Runs `body` as the node's one execution: recorded as started (running or waiting) with its input, then as
 * succeeded with the output, failed with the error, or cancelled.
 */
export async function asExecution<T>(
  runId: string,
  node: SnapshotNode,
  start: { status: "running" | "waiting"; input: Record<string, unknown> },
  body: () => Promise<T>,
): Promise<T> {
  const base = { runId, node_id: node.id };
  await record(() => bookkeeping.recordControlStarted({ ...base, node_name: node.name, type: node.type, ...start }));
  try {
    const output = await body();
    await record(() => bookkeeping.recordControlFinished({ ...base, status: "succeeded", output }));
    return output;
  } catch (err) {
    const cancelled = isCancellation(err);
    const error: NodeError | null = cancelled ? null : nodeError(err);
    await record(() =>
      bookkeeping.recordControlFinished({
        ...base,
        status: cancelled ? "cancelled" : "failed",
        output: undefined,
        error,
      })
    );
    throw err;
  }
}

/** The innermost message of a failure (an activity's or a child workflow's cause says what went wrong). */
export function failureText(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e?.cause && (e.cause as { message?: string }).message) e = e.cause as typeof e;
  return e?.message ?? String(err);
}

/** A failure as a node execution records it: the innermost message and type. */
export function nodeError(err: unknown): NodeError {
  let type: string | undefined;
  for (let e = err as { type?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e instanceof ApplicationFailure && e.type) type = e.type;
  }
  return { message: failureText(err), type: type ?? "NodeFailed", retryable: false };
}
