/**
 * The Temporal workflow that runs one Weft graph: every node whose upstream nodes are done runs at once
 * (bounded by max_parallel), each as an activity; outputs flow downstream as the template context.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities, proxyLocalActivities } from "@temporalio/workflow";
import type { Activities } from "../activities/index.ts";
import { ancestors, buildAdjacency, topologicalOrder } from "../core/graph.ts";
import type { RunDagInput, RunDagResult, SnapshotNode } from "../core/snapshot.ts";

const bookkeeping = proxyLocalActivities<Activities>({
  startToCloseTimeout: "30s",
  retry: { maximumAttempts: 20, initialInterval: "200ms", maximumInterval: "10s" },
});

const DEFAULT_TIMEOUT_MS = 60_000;

function nodeActivity(node: SnapshotNode) {
  const retry = (node.config.retry ?? {}) as {
    max_attempts?: number;
    initial_interval_ms?: number;
    backoff_coefficient?: number;
    max_interval_ms?: number;
    non_retryable_error_codes?: string[];
  };
  const timeoutMs = typeof node.config.timeout_ms === "number" ? node.config.timeout_ms : DEFAULT_TIMEOUT_MS;
  return proxyActivities<Activities>({
    activityId: node.name,
    summary: `${node.name} (${node.type})`,
    // The attempt gets the node's own timeout plus room to record its result.
    startToCloseTimeout: timeoutMs + 10_000,
    retry: {
      maximumAttempts: retry.max_attempts ?? 3,
      initialInterval: retry.initial_interval_ms ?? 1000,
      backoffCoefficient: retry.backoff_coefficient ?? 2,
      maximumInterval: retry.max_interval_ms ?? 30_000,
      nonRetryableErrorTypes: retry.non_retryable_error_codes ?? [],
    },
  }).executeNode;
}

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return (err as Error)?.message ?? String(err);
}

export async function runDag({ runId, input, snapshot }: RunDagInput): Promise<RunDagResult> {
  await bookkeeping.markRunStarted(runId);
  const byId = new Map(snapshot.nodes.map((n) => [n.id, n]));
  const adj = buildAdjacency(snapshot.nodes, snapshot.edges);
  const { order } = topologicalOrder(snapshot.nodes, adj);
  const upstream = ancestors(order, adj);
  const waitingOn = new Map(order.map((id) => [id, adj.in.get(id)!.length]));
  const ready = order.filter((id) => waitingOn.get(id) === 0);
  const outputs = new Map<string, unknown>();
  const running = new Map<string, Promise<void>>();
  let failure: { message: string; node: string } | null = null;

  const start = (id: string) => {
    const node = byId.get(id)!;
    const nodes: Record<string, { output: unknown }> = {};
    for (const a of upstream.get(id)!) nodes[byId.get(a)!.name] = { output: outputs.get(a) };
    const done = nodeActivity(node)({ runId, node, context: { input, nodes, run: { id: runId } } }).then(
      (output) => {
        outputs.set(id, output);
        for (const next of adj.out.get(id)!) {
          const left = waitingOn.get(next)! - 1;
          waitingOn.set(next, left);
          if (left === 0) ready.push(next);
        }
      },
      (err) => {
        failure ??= { message: `node "${node.name}" failed: ${failureMessage(err)}`, node: node.name };
      },
    ).finally(() => running.delete(id));
    running.set(id, done);
  };

  while (ready.length || running.size) {
    while (!failure && ready.length && running.size < snapshot.max_parallel) start(ready.shift()!);
    if (!running.size) break;
    await Promise.race(running.values());
  }

  // The run's output: what its sink nodes produced, keyed by node name.
  const output: Record<string, unknown> = {};
  for (const id of order) {
    if (adj.out.get(id)!.length === 0 && outputs.has(id)) output[byId.get(id)!.name] = outputs.get(id);
  }

  if (failure) {
    await bookkeeping.markRunFinished({ runId, status: "failed", output, error: failure });
    throw ApplicationFailure.nonRetryable(failure.message, "NodeFailed", failure);
  }
  await bookkeeping.markRunFinished({ runId, status: "succeeded", output, error: null });
  return { status: "succeeded", output };
}
