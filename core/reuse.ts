/**
 * Re-running from a failure: which nodes of a new run may reuse an earlier run's output instead of
 * executing again. A node is reused when it succeeded before, its definition (type, config, incoming edges
 * and their conditions) is unchanged, and every node upstream of it is reused too; failed, skipped,
 * changed and downstream nodes execute.
 */
import type { WorkflowSnapshot } from "./snapshot.ts";
import { canonicalJson } from "./snapshot.ts";
import { buildAdjacency, topologicalOrder } from "./graph.ts";

function definitions(snapshot: WorkflowSnapshot): Map<string, string> {
  const incoming = new Map<string, string[]>();
  for (const e of snapshot.edges) {
    incoming.set(e.target_node_id, [
      ...(incoming.get(e.target_node_id) ?? []),
      `${e.source_node_id}|${e.condition ?? ""}`,
    ]);
  }
  return new Map(snapshot.nodes.map((n) => [
    n.id,
    canonicalJson({ type: n.type, config: n.config, name: n.name, in: (incoming.get(n.id) ?? []).sort() }),
  ]));
}

/** Outputs to reuse, by node id, for `next` given what `previous` produced (`succeeded`: node id → output). */
export function planReuse(
  previous: WorkflowSnapshot,
  next: WorkflowSnapshot,
  succeeded: Map<string, unknown>,
): Record<string, unknown> {
  const before = definitions(previous);
  const after = definitions(next);
  const adj = buildAdjacency(next.nodes, next.edges);
  const reuse: Record<string, unknown> = {};
  for (const id of topologicalOrder(next.nodes, adj).order) {
    const unchanged = before.get(id) !== undefined && before.get(id) === after.get(id);
    const upstreamReused = adj.in.get(id)!.every((parent) => Object.hasOwn(reuse, parent));
    if (unchanged && upstreamReused && succeeded.has(id)) reuse[id] = succeeded.get(id);
  }
  return reuse;
}
