/**
 * Starting a run's nodes and settling them: each node as its own activity (a short one as a local activity behind
 * LOCAL_ACTIVITIES_PATCH; an approval node as a wait for a decision), two or more groupable siblings that do not
 * run locally as one group activity behind GROUPS_PATCH, at most max_parallel at a time. Node activities run in
 * one cancellation scope: fail_fast cancels it, and cancelling the run cancels it.
 */
import { CancellationScope, isCancellation, patched } from "@temporalio/workflow";
import type { SnapshotNode, WorkflowSnapshot } from "../core/contract.ts";
import type { DagScheduler } from "../core/dag-scheduler.ts";
import { runsLocally } from "../core/node-execution.ts";
import { nodeReferences } from "../core/node-kinds.ts";
import {
  failureMessage,
  GROUPABLE,
  groupActivity,
  GROUPS_PATCH,
  LOCAL_ACTIVITIES_PATCH,
  localNodeActivity,
  nodeActivity,
} from "./activity-options.ts";
import { LocalTaskBudget } from "./local-budget.ts";
import type { NodeContext, RunState } from "./run-state.ts";

export interface NodeRunnerDeps {
  state: RunState;
  scheduler: DagScheduler;
  snapshot: WorkflowSnapshot;
  gpuTaskQueue: string | undefined;
  resolveOutgoing: (id: string) => Promise<void>;
  awaitApproval: (node: SnapshotNode, context: NodeContext) => Promise<unknown>;
  /** How the run itself runs a control-flow node (workflows/nodes/), or undefined for an activity's node. */
  controlRunner: (node: SnapshotNode) => ((context: NodeContext) => Promise<unknown>) | undefined;
}

export class NodeRunner {
  /** Ready nodes not started yet, in the order they became ready. */
  readonly queue: string[] = [];
  /** Each running node's settlement (group members share their group's). */
  readonly running = new Map<string, Promise<void>>();
  readonly failFast: boolean;
  private readonly scope = new CancellationScope();
  // Node settlements so far, and the main loop's wake-up while it waits for the next one. One promise per wait:
  // racing every running node instead subscribes to each of them on every wait (O(n²) promises in a wide fan-out,
  // and each workflow promise costs a captured stack trace in the SDK's promise hook).
  private settledCount = 0;
  private wake: (() => void) | null = null;
  private groups: boolean | undefined;
  private local: boolean | undefined;
  private readonly localBudget = new LocalTaskBudget();

  constructor(private readonly deps: NodeRunnerDeps) {
    this.failFast = deps.snapshot.on_failure !== "continue";
  }

  get settled(): number {
    return this.settledCount;
  }

  /** Waits until a node settles after the `seen`th settlement (at once when one already has). */
  async nextSettlement(seen: number): Promise<void> {
    if (this.settledCount === seen) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = null;
  }

  /**
   * Starts what the queue holds within max_parallel: two or more groupable nodes go as one activity, unless they
   * run locally (parallel local activities cost no activity task each, which is what the group saved).
   */
  startQueued() {
    const { byId } = this.deps.state.graph;
    const take = this.queue.splice(0, Math.max(0, this.deps.snapshot.max_parallel - this.running.size));
    // Which nodes run locally is decided once, here: each reserves its share of the workflow task's budget.
    const local = new Map<string, (output: unknown) => void>();
    for (const id of take) {
      const settle = this.runsLocally(byId.get(id)!) ? this.localBudget.reserve() : null;
      if (settle) local.set(id, settle);
    }
    const groupable = take.filter((id) => GROUPABLE.has(byId.get(id)!.type) && !local.has(id));
    if (groupable.length >= 2 && (this.groups ??= patched(GROUPS_PATCH))) {
      this.startGroup(groupable);
      for (const id of take) if (!groupable.includes(id)) this.start(id, local.get(id));
    } else {
      for (const id of take) this.start(id, local.get(id));
    }
  }

  /**
   * Whether this node may run as a local activity (it does when this workflow task's budget has room); histories
   * from before the patch ran every node as an activity.
   */
  private runsLocally(node: SnapshotNode): boolean {
    return runsLocally(node.type, node.config) && (this.local ??= patched(LOCAL_ACTIVITIES_PATCH));
  }

  private settle(ids: string[]) {
    for (const id of ids) this.running.delete(id);
    this.settledCount++;
    this.wake?.();
  }

  /** A node that failed for good: the run fails for it, and under fail_fast nothing else goes on. */
  private fail(id: string, reason: string) {
    this.deps.state.failed(id, reason);
    if (this.failFast) this.scope.cancel();
    this.deps.scheduler.resolveOutgoing(id, false);
  }

  private cancelled(id: string) {
    this.deps.state.cancelled(id);
    this.deps.scheduler.resolveOutgoing(id, false);
  }

  /** `local`: run as a local activity, settling the budget it reserved with its output. */
  private start(id: string, local?: (output: unknown) => void) {
    const { state, gpuTaskQueue, resolveOutgoing, awaitApproval, controlRunner } = this.deps;
    const node = state.graph.byId.get(id)!;
    state.running(id);
    const context = state.contextFor(node, nodeReferences(node.type, node.config));
    const control = controlRunner(node);
    const execute = control
      ? () => control(context)
      : node.type === "approval"
      ? () => awaitApproval(node, context)
      : local
      ? async () => {
        const output = await localNodeActivity(node)({ runId: state.runId, node, context });
        local(output);
        return output;
      }
      : () => nodeActivity(node, gpuTaskQueue)({ runId: state.runId, node, context });
    const done = this.scope.run(execute)
      .then(
        async (output) => {
          state.succeeded(id, output);
          await resolveOutgoing(id);
        },
        (err) => {
          if (isCancellation(err)) this.cancelled(id);
          else this.fail(id, failureMessage(err));
        },
      )
      .finally(() => this.settle([id]));
    this.running.set(id, done);
  }

  /** Sibling nodes started at once as one activity (executeNodeGroup); each member keeps its own outcome. */
  private startGroup(ids: string[]) {
    const { state, resolveOutgoing } = this.deps;
    const nodes = ids.map((id) => state.graph.byId.get(id)!);
    const shared: Record<string, { output: unknown }> = {};
    const members = nodes.map((node) => {
      state.running(node.id);
      const { nodes: reads } = state.contextFor(node, nodeReferences(node.type, node.config));
      Object.assign(shared, reads);
      return { node, reads: Object.keys(reads) };
    });
    const group = { runId: state.runId, input: state.input, nodes: shared, members, failFast: this.failFast };
    const done = this.scope.run(() => groupActivity(nodes)(group))
      .then(
        async (results) => {
          for (const [i, node] of nodes.entries()) {
            const result = results[i];
            if (result.status === "succeeded") {
              state.succeeded(node.id, result.output);
              await resolveOutgoing(node.id);
            } else if (result.status === "failed") {
              this.fail(node.id, result.error.message);
            } else {
              this.cancelled(node.id);
            }
          }
        },
        (err) => {
          for (const node of nodes) {
            if (!isCancellation(err)) this.fail(node.id, failureMessage(err));
            else this.cancelled(node.id);
          }
        },
      )
      .finally(() => this.settle(ids));
    for (const id of ids) this.running.set(id, done);
  }
}
