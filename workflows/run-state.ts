/**
 * What a run knows about its graph as it goes: each node's status and output and the run's first failure, with
 * the context a node reads, the run's output and what a continue-as-new carries over. Plain data and
 * deterministic functions (no Temporal API), so the workflow's bookkeeping is unit-tested on its own.
 */
import { ancestors, buildAdjacency, topologicalOrder } from "../core/graph.ts";
import {
  type CarriedState,
  type FinalRunStatus,
  isOutputRef,
  type NodeStatus,
  outputRef,
  type RunFailure,
  type SnapshotNode,
} from "../core/contract.ts";
import type { SnapshotEdge, WorkflowSnapshot } from "../core/snapshot.ts";

/** The graph a run executes, indexed once. */
export interface RunGraph {
  byId: Map<string, SnapshotNode>;
  edgeById: Map<string, SnapshotEdge>;
  /** Every node upstream of each node (what its templates may read). */
  upstream: Map<string, Set<string>>;
  /** Nodes without outgoing edges: their outputs are the run's output. */
  sinks: SnapshotNode[];
}

export function indexGraph(snapshot: WorkflowSnapshot): RunGraph {
  const adj = buildAdjacency(snapshot.nodes, snapshot.edges);
  return {
    byId: new Map(snapshot.nodes.map((n) => [n.id, n])),
    edgeById: new Map(snapshot.edges.map((e) => [e.id, e])),
    upstream: ancestors(topologicalOrder(snapshot.nodes, adj).order, adj),
    sinks: snapshot.nodes.filter((n) => adj.out.get(n.id)!.length === 0),
  };
}

/** A node's template context: the run input, the outputs of the upstream nodes it reads, the run id. */
export type NodeContext = {
  input: unknown;
  nodes: Record<string, { output: unknown }>;
  run: { id: string };
};

/** Carried outputs longer than this (JSON characters) are handed over by reference. */
export const CARRY_INLINE_CHARS = 1024;

export class RunState {
  readonly status = new Map<string, NodeStatus>();
  readonly outputs = new Map<string, unknown>();
  /** The first failure: a node's, or a condition's. Later ones are not recorded on the run. */
  failure: RunFailure | null;

  constructor(readonly graph: RunGraph, readonly runId: string, readonly input: unknown, carried?: CarriedState) {
    this.failure = carried?.failure ?? null;
  }

  running(id: string) {
    this.status.set(id, "running");
  }

  /** Succeeded here, or earlier (carried over a continue-as-new): `reused` when taken from an earlier run. */
  succeeded(id: string, output: unknown, status: "succeeded" | "reused" = "succeeded") {
    this.outputs.set(id, output);
    this.status.set(id, status);
  }

  /** A node that failed; with a reason, the run fails for it unless something failed first. */
  failed(id: string, reason?: string) {
    this.status.set(id, "failed");
    if (reason !== undefined) {
      const name = this.graph.byId.get(id)!.name;
      this.fail({ message: `node "${name}" failed: ${reason}`, node: name });
    }
  }

  cancelled(id: string) {
    this.status.set(id, "cancelled");
  }

  skipped(id: string) {
    this.status.set(id, "skipped");
  }

  /** The run fails with this unless something failed first. */
  fail(failure: RunFailure) {
    this.failure ??= failure;
  }

  /** A condition on the edge into `targetId` could not be decided: the run fails for it. */
  conditionFailed(targetId: string, reason: string) {
    const name = this.graph.byId.get(targetId)!.name;
    this.fail({ message: `condition on the edge into "${name}" failed: ${reason}`, node: name });
  }

  /** What `node` may read: the outputs of its upstream nodes it names (or all of them). */
  contextFor(node: SnapshotNode, names: Set<string> | "all"): NodeContext {
    const nodes: Record<string, { output: unknown }> = {};
    for (const a of this.graph.upstream.get(node.id)!) {
      const name = this.graph.byId.get(a)!.name;
      if (this.outputs.has(a) && (names === "all" || names.has(name))) nodes[name] = { output: this.outputs.get(a) };
    }
    return { input: this.input, nodes, run: { id: this.runId } };
  }

  /** The run's output: what its sink nodes produced, keyed by node name. */
  output(): Record<string, unknown> {
    const output: Record<string, unknown> = {};
    for (const node of this.graph.sinks) if (this.outputs.has(node.id)) output[node.name] = this.outputs.get(node.id);
    return output;
  }

  /** How the run ends: cancelled, failed (by its first failure) or succeeded. */
  finalStatus(cancelled: boolean): FinalRunStatus {
    return cancelled ? "cancelled" : this.failure ? "failed" : "succeeded";
  }

  /** What a fresh execution of this run starts from: large outputs go by reference to their recorded execution. */
  carry(): CarriedState {
    const succeeded: Record<string, unknown> = {};
    for (const [id, output] of this.outputs) {
      const chars = JSON.stringify(output ?? null).length;
      succeeded[id] = chars > CARRY_INLINE_CHARS && !isOutputRef(output) ? outputRef(this.runId, id, chars) : output;
    }
    const failed = [...this.status].filter(([, s]) => s === "failed").map(([id]) => id);
    return { succeeded, failed, failure: this.failure };
  }
}
