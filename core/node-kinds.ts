/**
 * What the workflow needs to know of each node type — its task queue and which config fields are expressions —
 * without the config schemas (core/node-types.ts). The workflow bundle imports this file only: every workflow
 * execution evaluates its bundle's modules afresh, and building the zod schemas cost ~7 ms of worker CPU per run.
 */
import { referencedNodes } from "./template-refs.ts";

/** How deep sub-workflows may nest (a run started by a sub_workflow node is one level deeper than its parent). */
export const DEFAULT_MAX_SUB_WORKFLOW_DEPTH = 10;
/** Per-item node types a map's own workflow runs (timers and events), not an activity. */
export const MAP_WAIT_ITEM_TYPES: readonly string[] = ["delay", "wait_for_event"];
/** A map of MAP_WAIT_ITEM_TYPES (its own workflow runs their timers and events) takes at most this many items. */
export const MAX_MAP_WAIT_ITEMS = 1000;
/** Event names a `wait_for_event` waits for and `POST …/signals/{event}` sends. */
export const EVENT_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export const nodeKinds = {
  http_request: { queue: "cpu", expressionFields: [] as string[] },
  transform: { queue: "cpu", expressionFields: ["expression"] },
  approval: { queue: "cpu", expressionFields: [] as string[] },
  llm_call: { queue: "gpu", expressionFields: [] as string[] },
  faiss_search: { queue: "gpu", expressionFields: [] as string[] },
  db_write: { queue: "cpu", expressionFields: [] as string[] },
  // Control flow (core/control-nodes.ts): the workflow runs these itself; a map's per-item node keeps its own queue.
  map: { queue: "cpu", expressionFields: [] as string[] },
  sub_workflow: { queue: "cpu", expressionFields: [] as string[] },
  delay: { queue: "cpu", expressionFields: [] as string[] },
  wait_for_event: { queue: "cpu", expressionFields: [] as string[] },
} as const;

export type NodeType = keyof typeof nodeKinds;
export const KNOWN_NODE_TYPES = Object.keys(nodeKinds) as NodeType[];

export function isNodeType(type: string): type is NodeType {
  return Object.hasOwn(nodeKinds, type);
}

/** Node types the workflow runs itself (timers, signals, child workflows, batches) rather than as one activity. */
export const CONTROL_NODE_TYPES: ReadonlySet<string> = new Set(["map", "sub_workflow", "delay", "wait_for_event"]);

/** A person's decision on an approval node, as the API sends it to the waiting workflow. */
export interface ApprovalDecision {
  node_name: string;
  approved: boolean;
  data?: unknown;
  decided_by?: string | null;
}

export const NODE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** The node names a node reads as `nodes.<name>`, in templates and in its type's expression fields. */
export function nodeReferences(type: string, config: Record<string, unknown>): Set<string> | "all" {
  if (type === "map") return mapReferences(config);
  const expressionFields: readonly string[] = isNodeType(type) ? nodeKinds[type].expressionFields : [];
  const names = new Set<string>();
  for (const [key, value] of Object.entries(config)) {
    const found = referencedNodes(value, expressionFields.includes(key));
    if (found === "all") return "all";
    for (const name of found) names.add(name);
  }
  return names;
}

/** A map reads what its `items` and its per-item node (or child input) read. */
function mapReferences(config: Record<string, unknown>): Set<string> | "all" {
  const { items, node, ...rest } = config as {
    items?: string;
    node?: { type: string; config: Record<string, unknown> };
  };
  const parts = [
    referencedNodes(items ?? "", !String(items ?? "").includes("{{")),
    node ? nodeReferences(node.type, node.config ?? {}) : new Set<string>(),
    nodeReferences("sub_workflow", rest),
  ];
  const names = new Set<string>();
  for (const part of parts) {
    if (part === "all") return "all";
    for (const name of part) names.add(name);
  }
  return names;
}
