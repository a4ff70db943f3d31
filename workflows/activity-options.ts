/**
 * How runDag calls its activities: bookkeeping and expressions as local activities, each node as an activity
 * (a short one as a local activity) with its own retry policy and timeout, sibling nodes as one group activity.
 * The patch names mark histories recorded after a change of these calls, so older histories replay the calls
 * they made.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  CancellationScope,
  proxyActivities,
  proxyLocalActivities,
} from "@temporalio/workflow";
import type { SnapshotNode, WorkflowActivities } from "../core/contract.ts";
import { isNodeType, nodeKinds } from "../core/node-kinds.ts";
import { type NodePolicy, nodePolicy, RECORD_SLACK_MS, worstCaseMs } from "../core/node-policy.ts";

/** Marks histories whose conditions and approval messages are evaluated by expressionActivities. */
export const BOUNDED_EXPRESSIONS_PATCH = "weft-bounded-expressions";
/** Marks histories whose runs may start sibling nodes as one activity; older histories replay without it. */
export const GROUPS_PATCH = "weft-node-groups";

/**
 * Marks histories whose runs are marked started by their first node_executions row rather than a markRunStarted
 * local activity; older histories replay the call.
 */
export const LEAN_BOOKKEEPING_PATCH = "weft-lean-bookkeeping";

/** Marks histories whose short nodes run as local activities (core/node-execution.ts); older ones replay without. */
export const LOCAL_ACTIVITIES_PATCH = "weft-local-activities";

/**
 * A local node's retry backoff up to this long waits in the worker inside the workflow task; a longer one (a
 * late attempt's backoff, a long Retry-After) becomes a Temporal timer, so no workflow task is held through it.
 */
export const LOCAL_RETRY_THRESHOLD_MS = 5_000;

/** Node types a group may hold: they run in the worker's own process on the run's queue. */
export const GROUPABLE: ReadonlySet<string> = new Set(["http_request", "transform", "db_write"]);

export const bookkeeping = proxyLocalActivities<WorkflowActivities>({
  startToCloseTimeout: "30s",
  retry: { maximumAttempts: 20, initialInterval: "200ms", maximumInterval: "10s" },
});

/**
 * Edge conditions and approval messages, evaluated by the worker under a time and memory bound (never on the
 * workflow thread, where a runaway expression would stall the workflow task on every retry). A condition that
 * overruns is reported as its outcome, so only infrastructure faults are retried.
 */
export const expressionActivities = proxyLocalActivities<WorkflowActivities>({
  // Room for many conditions that each run to their bound, and for an evaluator process to start.
  startToCloseTimeout: "5m",
  retry: { maximumAttempts: 5, initialInterval: "500ms", maximumInterval: "10s" },
});

/** Bookkeeping must happen even while the run is being cancelled. */
export const record = <T>(fn: () => Promise<T>) => CancellationScope.nonCancellable(fn);

export function nodeActivity(node: SnapshotNode, gpuTaskQueue: string | undefined) {
  const policy = nodePolicy(node.config);
  // GPU node types go to the GPU queue, where the models are; everything else stays on the run's queue.
  const gpu = gpuTaskQueue && isNodeType(node.type) && nodeKinds[node.type].queue === "gpu";
  return proxyActivities<WorkflowActivities>({
    ...(gpu ? { taskQueue: gpuTaskQueue } : {}),
    activityId: node.name,
    summary: `${node.name} (${node.type})`,
    // The attempt gets the node's own timeout plus room to record its result.
    startToCloseTimeout: policy.timeoutMs + RECORD_SLACK_MS,
    // Activities heartbeat every second: a dead worker is noticed in seconds, and cancellation arrives.
    heartbeatTimeout: "10s",
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: retryPolicy(policy),
  }).executeNode;
}

/**
 * A short node as a local activity (the same executeNode function): no activity task, its result reaches the
 * history when the workflow task completes. Retry policy and timeout as for nodeActivity; no heartbeat (a lost
 * worker is noticed by the workflow task timing out).
 */
export function localNodeActivity(node: SnapshotNode) {
  const policy = nodePolicy(node.config);
  return proxyLocalActivities<WorkflowActivities>({
    summary: `${node.name} (${node.type}) · local`,
    startToCloseTimeout: policy.timeoutMs + RECORD_SLACK_MS,
    localRetryThreshold: LOCAL_RETRY_THRESHOLD_MS,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: retryPolicy(policy),
  }).executeNode;
}

export function groupActivity(nodes: SnapshotNode[]) {
  const names = nodes.map((n) => n.name);
  const policies = nodes.map((n) => nodePolicy(n.config));
  const listed = names.join(", ");
  return proxyActivities<WorkflowActivities>({
    activityId: `${names[0]}+${names.length - 1}`,
    summary: `${names.length} nodes: ${listed.length > 200 ? `${listed.slice(0, 200)}…` : listed}`,
    // Members retry inside the activity: it may take every attempt and backoff of its slowest member.
    startToCloseTimeout: Math.max(...policies.map(worstCaseMs)),
    heartbeatTimeout: "10s",
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    // Only a lost or broken group attempt is retried by Temporal; its members go on from what was recorded.
    retry: { maximumAttempts: Math.max(...policies.map((p) => p.maxAttempts)) + 1, initialInterval: "1s" },
  }).executeNodeGroup;
}

/** A node's retry policy as Temporal's, for its activity or local activity. */
const retryPolicy = (policy: NodePolicy) => ({
  maximumAttempts: policy.maxAttempts,
  initialInterval: policy.initialIntervalMs,
  backoffCoefficient: policy.backoffCoefficient,
  maximumInterval: policy.maxIntervalMs,
  nonRetryableErrorTypes: policy.nonRetryableErrorTypes,
});

/** What failed, as the run records it: an activity's own failure rather than Temporal's wrapper. */
export function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return (err as Error)?.message ?? String(err);
}
