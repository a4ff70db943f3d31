/** The immutable graph a run executes: what the API hands to the Temporal workflow, with its content hash. */

export interface SnapshotNode {
  id: string;
  name: string;
  type: string;
  config: Record<string, unknown>;
}

export interface SnapshotEdge {
  id: string;
  source_node_id: string;
  target_node_id: string;
  condition: string | null;
}

export interface WorkflowSnapshot {
  workflow_id: string;
  version: number;
  /** sha256 of the canonical JSON of nodes and edges. */
  hash: string;
  max_parallel: number;
  /** fail_fast: a failure cancels running nodes and starts no more; continue: independent branches finish. */
  on_failure: "fail_fast" | "continue";
  nodes: SnapshotNode[];
  edges: SnapshotEdge[];
}

/** JSON with object keys sorted, so equal graphs hash equally whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export async function graphHash(nodes: SnapshotNode[], edges: SnapshotEdge[]): Promise<string> {
  const sortedNodes = [...nodes].sort((a, b) => (a.id < b.id ? -1 : 1));
  const sortedEdges = [...edges].sort((a, b) => (a.id < b.id ? -1 : 1));
  const bytes = new TextEncoder().encode(canonicalJson({ nodes: sortedNodes, edges: sortedEdges }));
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
