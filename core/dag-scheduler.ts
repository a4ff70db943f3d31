/**
 * Which nodes of a run may start, and which are skipped: a node runs once every incoming edge is resolved
 * and at least one was taken; when all are resolved and none was taken it is skipped, which resolves its
 * own outgoing edges as not taken (skipping propagates). Pure and deterministic: the workflow drives it.
 */

export interface SchedulerEdge {
  id: string;
  source_node_id: string;
  target_node_id: string;
}

export class DagScheduler {
  private readonly incoming = new Map<string, SchedulerEdge[]>();
  private readonly outgoing = new Map<string, SchedulerEdge[]>();
  private readonly resolved = new Map<string, boolean>();
  private readonly decided = new Set<string>();
  private readonly readyQueue: string[] = [];
  private readonly skippedQueue: string[] = [];

  constructor(nodeIds: string[], edges: SchedulerEdge[]) {
    for (const id of nodeIds) {
      this.incoming.set(id, []);
      this.outgoing.set(id, []);
    }
    for (const e of edges) {
      this.incoming.get(e.target_node_id)!.push(e);
      this.outgoing.get(e.source_node_id)!.push(e);
    }
    for (const id of nodeIds) this.consider(id);
  }

  outgoingEdges(id: string): SchedulerEdge[] {
    return this.outgoing.get(id)!;
  }

  /** Nodes that became runnable since the last call, in a deterministic order. */
  takeReady(): string[] {
    return this.readyQueue.splice(0);
  }

  /** Nodes that became skipped since the last call. */
  takeSkipped(): string[] {
    return this.skippedQueue.splice(0);
  }

  resolveEdge(edgeId: string, taken: boolean) {
    const edge = this.findEdge(edgeId);
    if (this.resolved.has(edgeId)) return;
    this.resolved.set(edgeId, taken);
    this.consider(edge.target_node_id);
  }

  /** A node that did not succeed (failed, cancelled) leads nowhere: its outgoing edges are not taken. */
  resolveOutgoing(id: string, taken: boolean) {
    for (const e of this.outgoing.get(id)!) this.resolveEdge(e.id, taken);
  }

  private findEdge(edgeId: string): SchedulerEdge {
    for (const edges of this.outgoing.values()) {
      const found = edges.find((e) => e.id === edgeId);
      if (found) return found;
    }
    throw new Error(`unknown edge ${edgeId}`);
  }

  private consider(id: string) {
    if (this.decided.has(id)) return;
    const edges = this.incoming.get(id)!;
    if (edges.some((e) => !this.resolved.has(e.id))) return;
    this.decided.add(id);
    if (edges.length === 0 || edges.some((e) => this.resolved.get(e.id))) {
      this.readyQueue.push(id);
    } else {
      this.skippedQueue.push(id);
      this.resolveOutgoing(id, false);
    }
  }
}

/** JSONata results as edge decisions: empty, null, false, 0 and "" are "not taken". */
export function isTruthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === "") return false;
  if (Array.isArray(value)) return value.some(isTruthy);
  return true;
}
