/** Graph model and validation shared by the API and the worker: adjacency, Kahn's order, cycles, reachability. */

export interface GraphNode {
  id: string;
  name: string;
}

export interface GraphEdge {
  source_node_id: string;
  target_node_id: string;
}

export type GraphErrorCode =
  | "EMPTY_GRAPH"
  | "CYCLE"
  | "DANGLING_EDGE"
  | "UNREACHABLE_NODE"
  | "DISCONNECTED_NODE"
  | "DUPLICATE_NODE_NAME"
  | "UNKNOWN_NODE_TYPE"
  | "INVALID_CONFIG";

export interface GraphError {
  code: GraphErrorCode;
  message: string;
  node_ids: string[];
}

export interface GraphValidation {
  valid: boolean;
  errors: GraphError[];
  /** Topological order of node ids (only the acyclic part when there is a cycle). */
  order: string[];
  start_nodes: string[];
}

export interface Adjacency {
  out: Map<string, string[]>;
  in: Map<string, string[]>;
}

export function buildAdjacency(nodes: GraphNode[], edges: GraphEdge[]): Adjacency {
  const out = new Map<string, string[]>();
  const inn = new Map<string, string[]>();
  for (const n of nodes) {
    out.set(n.id, []);
    inn.set(n.id, []);
  }
  for (const e of edges) {
    out.get(e.source_node_id)?.push(e.target_node_id);
    inn.get(e.target_node_id)?.push(e.source_node_id);
  }
  return { out, in: inn };
}

/** Kahn's algorithm; ties broken by the nodes' given order so the result is deterministic. */
export function topologicalOrder(nodes: GraphNode[], adj: Adjacency): { order: string[]; remaining: string[] } {
  const indegree = new Map<string, number>();
  for (const n of nodes) indegree.set(n.id, adj.in.get(n.id)!.length);
  const queue = nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
  const order: string[] = [];
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i];
    order.push(id);
    for (const next of adj.out.get(id)!) {
      const d = indegree.get(next)! - 1;
      indegree.set(next, d);
      if (d === 0) queue.push(next);
    }
  }
  const done = new Set(order);
  return { order, remaining: nodes.map((n) => n.id).filter((id) => !done.has(id)) };
}

/** Finds one cycle among nodes Kahn could not order, returned in edge order (a → b → … → a). */
export function findCycle(remaining: string[], adj: Adjacency): string[] {
  const inRemaining = new Set(remaining);
  const state = new Map<string, 1 | 2>(); // 1 = on stack, 2 = finished
  const stack: string[] = [];
  const visit = (id: string): string[] | null => {
    state.set(id, 1);
    stack.push(id);
    for (const next of adj.out.get(id)!) {
      if (!inRemaining.has(next)) continue;
      if (state.get(next) === 1) return stack.slice(stack.indexOf(next));
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(id, 2);
    return null;
  };
  for (const id of remaining) {
    if (!state.has(id)) {
      const found = visit(id);
      if (found) return found;
    }
  }
  return [];
}

export function validateGraph(nodes: GraphNode[], edges: GraphEdge[]): GraphValidation {
  const errors: GraphError[] = [];
  const names = new Map(nodes.map((n) => [n.id, n.name]));
  const label = (ids: string[]) => ids.map((id) => names.get(id) ?? id).join(" → ");
  if (nodes.length === 0) {
    errors.push({ code: "EMPTY_GRAPH", message: "the workflow has no nodes", node_ids: [] });
    return { valid: false, errors, order: [], start_nodes: [] };
  }
  const byName = new Map<string, string[]>();
  for (const n of nodes) byName.set(n.name, [...(byName.get(n.name) ?? []), n.id]);
  for (const [name, ids] of byName) {
    if (ids.length > 1) {
      errors.push({
        code: "DUPLICATE_NODE_NAME",
        message: `node name "${name}" is used ${ids.length} times`,
        node_ids: ids,
      });
    }
  }
  const known = new Set(nodes.map((n) => n.id));
  const goodEdges: GraphEdge[] = [];
  for (const e of edges) {
    const missing = [e.source_node_id, e.target_node_id].filter((id) => !known.has(id));
    if (missing.length) {
      errors.push({
        code: "DANGLING_EDGE",
        message: "an edge points to a node that is not in the workflow",
        node_ids: missing,
      });
    } else goodEdges.push(e);
  }
  const adj = buildAdjacency(nodes, goodEdges);
  const { order, remaining } = topologicalOrder(nodes, adj);
  if (remaining.length) {
    const cycle = findCycle(remaining, adj);
    errors.push({
      code: "CYCLE",
      message: `the graph has a cycle: ${label([...cycle, cycle[0]])}`,
      node_ids: cycle,
    });
  }
  const startNodes = nodes.filter((n) => adj.in.get(n.id)!.length === 0).map((n) => n.id);
  if (nodes.length > 1) {
    const isolated = nodes.filter((n) => adj.in.get(n.id)!.length === 0 && adj.out.get(n.id)!.length === 0);
    if (isolated.length) {
      errors.push({
        code: "DISCONNECTED_NODE",
        message: `nodes not connected to the rest of the graph: ${label(isolated.map((n) => n.id))}`,
        node_ids: isolated.map((n) => n.id),
      });
    }
  }
  // Nodes on or behind a cycle cannot be reached from any start node.
  const reached = new Set<string>();
  const walk = [...startNodes];
  while (walk.length) {
    const id = walk.pop()!;
    if (reached.has(id)) continue;
    reached.add(id);
    walk.push(...adj.out.get(id)!);
  }
  const unreachable = nodes.map((n) => n.id).filter((id) => !reached.has(id));
  if (unreachable.length) {
    errors.push({
      code: "UNREACHABLE_NODE",
      message: `nodes no start node leads to: ${label(unreachable)}`,
      node_ids: unreachable,
    });
  }
  return { valid: errors.length === 0, errors, order, start_nodes: startNodes };
}

/** Every node's transitive upstream set, computed once in topological order. */
export function ancestors(order: string[], adj: Adjacency): Map<string, Set<string>> {
  const result = new Map<string, Set<string>>();
  for (const id of order) {
    const set = new Set<string>();
    for (const parent of adj.in.get(id)!) {
      set.add(parent);
      for (const a of result.get(parent) ?? []) set.add(a);
    }
    result.set(id, set);
  }
  return result;
}
