/**
 * The Temporal workflow that runs one Weft graph: every node whose upstream nodes are resolved runs at once
 * (bounded by max_parallel), each as an activity; edge conditions decide which branches are taken; outputs
 * flow downstream as the template context. Cancelling the workflow cancels the running activities.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  continueAsNew,
  defineUpdate,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from "@temporalio/workflow";
import {
  approveUpdate as approveContract,
  type ConditionOutcome,
  type NodeOutcome,
  type NodeStatus,
  outputRef,
  type RunDagInput,
  type RunDagResult,
  type UpdateArgs,
  type UpdateResult,
  type WorkflowActivities,
} from "../core/contract.ts";
import { DagScheduler, isTruthy } from "../core/dag-scheduler.ts";
import { nodePolicy, RECORD_SLACK_MS, worstCaseMs } from "../core/node-policy.ts";
import { ancestors, buildAdjacency, topologicalOrder } from "../core/graph.ts";
import { type ApprovalDecision, isNodeType, nodeKinds, nodeReferences } from "../core/node-kinds.ts";
import { contextHasRefs, isOutputRef } from "../core/output-ref.ts";
import { WEFT_STATUS } from "../core/search-attributes.ts";
import type { SnapshotEdge, SnapshotNode } from "../core/snapshot.ts";
import { evaluateExpression, referencedNodes, renderTemplate } from "../core/template.ts";

/** A person's decision on an approval node, sent by the API; rejected unless that node is waiting. */
export const approveUpdate = defineUpdate<
  UpdateResult<typeof approveContract>,
  UpdateArgs<typeof approveContract>,
  typeof approveContract.name
>(approveContract.name);

const bookkeeping = proxyLocalActivities<WorkflowActivities>({
  startToCloseTimeout: "30s",
  retry: { maximumAttempts: 20, initialInterval: "200ms", maximumInterval: "10s" },
});

/**
 * Edge conditions and approval messages, evaluated by the worker under a time and memory bound (never on the
 * workflow thread, where a runaway expression would stall the workflow task on every retry). A condition that
 * overruns is reported as its outcome, so only infrastructure faults are retried.
 */
const expressionActivities = proxyLocalActivities<WorkflowActivities>({
  // Room for many conditions that each run to their bound, and for an evaluator process to start.
  startToCloseTimeout: "5m",
  retry: { maximumAttempts: 5, initialInterval: "500ms", maximumInterval: "10s" },
});
/** Marks histories whose conditions and approval messages are evaluated by expressionActivities. */
const BOUNDED_EXPRESSIONS_PATCH = "weft-bounded-expressions";

function nodeActivity(node: SnapshotNode, gpuTaskQueue: string | undefined) {
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
    retry: {
      maximumAttempts: policy.maxAttempts,
      initialInterval: policy.initialIntervalMs,
      backoffCoefficient: policy.backoffCoefficient,
      maximumInterval: policy.maxIntervalMs,
      nonRetryableErrorTypes: policy.nonRetryableErrorTypes,
    },
  }).executeNode;
}

/** Node types a group may hold: they run in the worker's own process on the run's queue. */
const GROUPABLE = new Set(["http_request", "transform", "db_write"]);
/** Marks histories whose runs may start sibling nodes as one activity; older histories replay without it. */
const GROUPS_PATCH = "weft-node-groups";

function groupActivity(nodes: SnapshotNode[]) {
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

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return (err as Error)?.message ?? String(err);
}

/** Bookkeeping must happen even while the run is being cancelled. */
const record = <T>(fn: () => Promise<T>) => CancellationScope.nonCancellable(fn);

const DEFAULT_MAX_HISTORY_EVENTS = 10_000;
/** Carried outputs longer than this (JSON characters) are handed over by reference. */
const CARRY_INLINE_CHARS = 1024;

export async function runDag(args: RunDagInput): Promise<RunDagResult> {
  const { runId, input, snapshot, reuse = {}, searchAttributes = false } = args;
  const carried = args.carried ?? { succeeded: {}, failed: [], failure: null };
  const maxHistoryEvents = args.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS;
  const setStatus = (status: string) => {
    if (searchAttributes) upsertSearchAttributes([{ key: WEFT_STATUS, value: status }]);
  };
  await record(() => bookkeeping.markRunStarted(runId));
  const byId = new Map(snapshot.nodes.map((n) => [n.id, n]));
  const adj = buildAdjacency(snapshot.nodes, snapshot.edges);
  const upstream = ancestors(topologicalOrder(snapshot.nodes, adj).order, adj);
  const scheduler = new DagScheduler(snapshot.nodes.map((n) => n.id), snapshot.edges);
  const edgeById = new Map(snapshot.edges.map((e) => [e.id, e]));
  const outputs = new Map<string, unknown>();
  const status = new Map<string, NodeStatus>();
  const running = new Map<string, Promise<void>>();
  // Node settlements so far, and the main loop's wake-up while it waits for the next one. One promise per wait:
  // racing every running node instead subscribes to each of them on every wait (O(n²) promises in a wide fan-out,
  // and each workflow promise costs a captured stack trace in the SDK's promise hook).
  let settled = 0;
  let wake: (() => void) | null = null;
  const queue: string[] = [];
  const failFast = snapshot.on_failure !== "continue";
  // Node activities run in their own scope: fail_fast cancels it; cancelling the run cancels it too.
  const nodesScope = new CancellationScope();
  let failure: { message: string; node: string } | null = carried.failure;
  let cancelled = false;
  // Set when the history grows large: start nothing more, let running nodes finish, continue as new.
  let draining = false;

  // Approval nodes waiting for a decision, by node name; decisions arrive as Temporal updates.
  const waiting = new Map<string, ApprovalDecision | null>();
  setHandler(approveUpdate, (decision) => {
    waiting.set(decision.node_name, decision);
    return { accepted: true as const };
  }, {
    validator: (decision) => {
      if (!waiting.has(decision.node_name) || waiting.get(decision.node_name) !== null) {
        throw new Error(`node "${decision.node_name}" is not waiting for approval`);
      }
    },
  });

  let bounded: boolean | undefined;
  const expressionsBounded = () => (bounded ??= patched(BOUNDED_EXPRESSIONS_PATCH));

  const awaitApproval = async (node: SnapshotNode, context: Record<string, unknown>) => {
    const config = node.config as {
      message?: string;
      default_decision?: string;
      on_reject?: string;
      timeout_ms?: number;
    };
    const message = { message: config.message ?? null };
    const input = JSON.stringify(message).includes("{{") && expressionsBounded()
      ? await expressionActivities.renderApprovalInput({ value: message, context })
      : (await renderTemplate(message, context)) as Record<string, unknown>;
    waiting.set(node.name, null);
    await record(async () => {
      await bookkeeping.recordApprovalWaiting({ runId, node_id: node.id, node_name: node.name, input });
      await bookkeeping.setRunStatus({ runId, status: "waiting" });
    });
    setStatus("waiting");
    try {
      const decided = typeof config.timeout_ms === "number"
        ? await condition(() => waiting.get(node.name) !== null, config.timeout_ms)
        : (await condition(() => waiting.get(node.name) !== null), true);
      const decision = waiting.get(node.name) ?? null;
      const approved = decided && decision ? decision.approved : config.default_decision === "approve";
      const output = {
        approved,
        data: decision?.data ?? null,
        decided_by: decision?.decided_by ?? null,
        timed_out: !decided,
      };
      const rejected = !approved && config.on_reject !== "continue";
      const error = rejected
        ? {
          message: decided
            ? `rejected by ${decision?.decided_by ?? "a reviewer"}`
            : "no decision before the timeout; rejected by default",
          type: "ApprovalRejected",
          retryable: false,
        }
        : null;
      await record(() =>
        bookkeeping.recordApprovalDecision({
          runId,
          node_id: node.id,
          status: rejected ? "failed" : "succeeded",
          output,
          error,
        })
      );
      if (rejected) throw ApplicationFailure.nonRetryable(error!.message, "ApprovalRejected");
      return output;
    } catch (err) {
      if (isCancellation(err)) {
        await record(() =>
          bookkeeping.recordApprovalDecision({ runId, node_id: node.id, status: "cancelled", output: undefined })
        );
      }
      throw err;
    } finally {
      waiting.delete(node.name);
      if (![...waiting.values()].some((d) => d === null)) {
        await record(() => bookkeeping.setRunStatus({ runId, status: "running" }));
        setStatus("running");
      }
    }
  };

  const contextFor = (node: SnapshotNode, names: Set<string> | "all") => {
    const nodes: Record<string, { output: unknown }> = {};
    for (const a of upstream.get(node.id)!) {
      const name = byId.get(a)!.name;
      if (outputs.has(a) && (names === "all" || names.has(name))) nodes[name] = { output: outputs.get(a) };
    }
    return { input, nodes, run: { id: runId } };
  };

  /** A finished node's outgoing edges: taken when unconditional or when the condition holds. */
  const resolveOutgoing = async (id: string) => {
    const edges = scheduler.outgoingEdges(id);
    const conditional = edges.filter((e) => edgeById.get(e.id)!.condition);
    if (conditional.length && expressionsBounded()) {
      for (const edge of edges) if (!edgeById.get(edge.id)!.condition) scheduler.resolveEdge(edge.id, true);
      return await resolveConditions(conditional.map((e) => edgeById.get(e.id)!));
    }
    // Histories from before the patch evaluated conditions here, on the workflow thread.
    for (const edge of edges) {
      const condition = edgeById.get(edge.id)!.condition;
      if (!condition) {
        scheduler.resolveEdge(edge.id, true);
        continue;
      }
      const target = byId.get(edge.target_node_id)!;
      try {
        const context = contextFor(target, referencedNodes(condition, true));
        // Outputs passed by reference are only readable from PostgreSQL: evaluate those in a local activity.
        const taken = contextHasRefs(context)
          ? await record(() => bookkeeping.evaluateCondition({ condition, context }))
          : isTruthy(await evaluateExpression(condition, context));
        scheduler.resolveEdge(edge.id, taken);
      } catch (err) {
        failure ??= {
          message: `condition on the edge into "${target.name}" failed: ${(err as Error).message}`,
          node: target.name,
        };
        scheduler.resolveEdge(edge.id, false);
      }
    }
  };

  /** Conditional edges out of one node, decided by one local activity; a condition that fails fails the run. */
  const resolveConditions = async (edges: SnapshotEdge[]) => {
    const nodes: Record<string, { output: unknown }> = {};
    const conditions = edges.map((edge) => {
      const condition = edge.condition!;
      const { nodes: reads } = contextFor(byId.get(edge.target_node_id)!, referencedNodes(condition, true));
      Object.assign(nodes, reads);
      return { condition, reads: Object.keys(reads) };
    });
    let outcomes: ConditionOutcome[];
    try {
      outcomes = await record(() => expressionActivities.evaluateConditions({ runId, input, nodes, conditions }));
    } catch (err) {
      outcomes = edges.map(() => ({ error: failureMessage(err) }));
    }
    for (const [i, edge] of edges.entries()) {
      const outcome = outcomes[i];
      if ("error" in outcome) {
        failure ??= {
          message: `condition on the edge into "${byId.get(edge.target_node_id)!.name}" failed: ${outcome.error}`,
          node: byId.get(edge.target_node_id)!.name,
        };
      }
      scheduler.resolveEdge(edge.id, "taken" in outcome && outcome.taken);
    }
  };

  const start = (id: string) => {
    const node = byId.get(id)!;
    status.set(id, "running");
    const context = contextFor(node, nodeReferences(node.type, node.config));
    const execute = node.type === "approval"
      ? () => awaitApproval(node, context)
      : () => nodeActivity(node, args.gpuTaskQueue)({ runId, node, context });
    const done = nodesScope.run(execute)
      .then(
        async (output) => {
          outputs.set(id, output);
          status.set(id, "succeeded");
          await resolveOutgoing(id);
        },
        (err) => {
          if (isCancellation(err)) {
            status.set(id, "cancelled");
          } else {
            status.set(id, "failed");
            failure ??= { message: `node "${node.name}" failed: ${failureMessage(err)}`, node: node.name };
            if (failFast) nodesScope.cancel();
          }
          scheduler.resolveOutgoing(id, false);
        },
      )
      .finally(() => {
        running.delete(id);
        settled++;
        wake?.();
      });
    running.set(id, done);
  };

  /** Sibling nodes started at once as one activity (executeNodeGroup); each member keeps its own outcome. */
  const startGroup = (ids: string[]) => {
    const nodes = ids.map((id) => byId.get(id)!);
    const shared: Record<string, { output: unknown }> = {};
    const members = nodes.map((node) => {
      status.set(node.id, "running");
      const { nodes: reads } = contextFor(node, nodeReferences(node.type, node.config));
      Object.assign(shared, reads);
      return { node, reads: Object.keys(reads) };
    });
    const fail = (node: SnapshotNode, message: string) => {
      status.set(node.id, "failed");
      failure ??= { message: `node "${node.name}" failed: ${message}`, node: node.name };
      if (failFast) nodesScope.cancel();
      scheduler.resolveOutgoing(node.id, false);
    };
    const done = nodesScope.run(() => groupActivity(nodes)({ runId, input, nodes: shared, members, failFast }))
      .then(
        async (results) => {
          for (const [i, node] of nodes.entries()) {
            const result = results[i];
            if (result.status === "succeeded") {
              outputs.set(node.id, result.output);
              status.set(node.id, "succeeded");
              await resolveOutgoing(node.id);
            } else if (result.status === "failed") {
              fail(node, result.error.message);
            } else {
              status.set(node.id, "cancelled");
              scheduler.resolveOutgoing(node.id, false);
            }
          }
        },
        (err) => {
          for (const node of nodes) {
            if (!isCancellation(err)) fail(node, failureMessage(err));
            else {
              status.set(node.id, "cancelled");
              scheduler.resolveOutgoing(node.id, false);
            }
          }
        },
      )
      .finally(() => {
        for (const id of ids) running.delete(id);
        settled++;
        wake?.();
      });
    for (const id of ids) running.set(id, done);
  };
  let groups: boolean | undefined;
  /** Starts what the queue holds within max_parallel: two or more groupable nodes go as one activity. */
  const startQueued = () => {
    const take = queue.splice(0, Math.max(0, snapshot.max_parallel - running.size));
    const groupable = take.filter((id) => GROUPABLE.has(byId.get(id)!.type));
    if (groupable.length >= 2 && (groups ??= patched(GROUPS_PATCH))) {
      startGroup(groupable);
      for (const id of take) if (!groupable.includes(id)) start(id);
    } else {
      for (const id of take) start(id);
    }
  };

  const stopped = () => cancelled || draining || (failFast && failure !== null);

  for (;;) {
    const seen = settled;
    const outcomes: NodeOutcome[] = [];
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (const id of scheduler.takeSkipped()) {
        const node = byId.get(id)!;
        status.set(id, "skipped");
        outcomes.push({
          node_id: id,
          node_name: node.name,
          type: node.type,
          status: "skipped",
          reason: "no incoming edge was taken",
        });
      }
      for (const id of scheduler.takeReady()) {
        if (Object.hasOwn(carried.succeeded, id)) {
          // Finished (and recorded) by an earlier execution of this run.
          outputs.set(id, carried.succeeded[id]);
          status.set(id, "succeeded");
          await resolveOutgoing(id);
          progressed = true;
        } else if (carried.failed.includes(id)) {
          status.set(id, "failed");
          scheduler.resolveOutgoing(id, false);
          progressed = true;
        } else if (Object.hasOwn(reuse, id)) {
          const node = byId.get(id)!;
          outputs.set(id, reuse[id]);
          status.set(id, "reused");
          outcomes.push({ node_id: id, node_name: node.name, type: node.type, status: "reused", output: reuse[id] });
          await resolveOutgoing(id);
          progressed = true;
        } else queue.push(id);
      }
    }
    if (outcomes.length) await record(() => bookkeeping.recordNodeOutcomes({ runId, outcomes }));
    if (!stopped() && queue.length) startQueued();
    if (!running.size) break;
    // Nodes that settled while this pass awaited bookkeeping are handled on the next pass without waiting.
    if (settled === seen) await new Promise<void>((resolve) => (wake = resolve));
    wake = null;
    const info = workflowInfo();
    if (!draining && (info.continueAsNewSuggested || info.historyLength > maxHistoryEvents)) draining = true;
    if (CancellationScope.current().consideredCancelled) {
      cancelled = true;
      // Wait for every running activity to confirm its cancellation before recording the run.
      await record(() => Promise.allSettled(running.values()));
      break;
    }
  }
  cancelled ||= CancellationScope.current().consideredCancelled;

  if (draining && queue.length && !cancelled && !(failFast && failure)) {
    // Keep the history within Temporal's limits: hand what is finished to a fresh execution of this run.
    const succeeded: Record<string, unknown> = {};
    for (const [id, output] of outputs) {
      succeeded[id] = JSON.stringify(output ?? null).length > CARRY_INLINE_CHARS && !isOutputRef(output)
        ? outputRef(runId, id, JSON.stringify(output).length)
        : output;
    }
    const failed = [...status].filter(([, s]) => s === "failed").map(([id]) => id);
    await continueAsNew<typeof runDag>({ ...args, carried: { succeeded, failed, failure } });
  }

  // The run's output: what its sink nodes produced, keyed by node name.
  const output: Record<string, unknown> = {};
  for (const node of snapshot.nodes) {
    if (adj.out.get(node.id)!.length === 0 && outputs.has(node.id)) output[node.name] = outputs.get(node.id);
  }

  setStatus(cancelled ? "cancelled" : failure ? "failed" : "succeeded");
  if (cancelled) {
    await record(() =>
      bookkeeping.markRunFinished({ runId, status: "cancelled", output, error: { message: "the run was cancelled" } })
    );
    throw new CancelledFailure("the run was cancelled");
  }
  if (failure) {
    const error = failure as { message: string; node: string };
    await record(() => bookkeeping.markRunFinished({ runId, status: "failed", output, error }));
    throw ApplicationFailure.nonRetryable(error.message, "NodeFailed", error);
  }
  await record(() => bookkeeping.markRunFinished({ runId, status: "succeeded", output, error: null }));
  return { status: "succeeded", output };
}
