/** Creating a run: snapshot the workflow's current graph (validated, hashed) and insert the run row. */
import { workflowIds } from "../core/contract.ts";
import { dbSpan } from "../core/tracing.ts";
import { graphHash, type SnapshotEdge, type SnapshotNode, type WorkflowSnapshot } from "../core/snapshot.ts";
import { validateWorkflow } from "../core/workflow-validation.ts";
import type { GraphError } from "../core/graph.ts";
import { jsonValue, type Sql } from "./client.ts";

export const RUN_TRIGGERS = ["manual", "webhook", "schedule", "retry", "sub_workflow", "map", "error"] as const;
export type RunTrigger = typeof RUN_TRIGGERS[number];
/** Runs another run starts itself (its workflow starts their runDag), never the API's orphan sweeper. */
export const STARTED_BY_A_WORKFLOW: readonly RunTrigger[] = ["schedule", "sub_workflow", "map", "error"];

export class InvalidGraphError extends Error {
  constructor(readonly errors: GraphError[]) {
    super(`the workflow cannot run: ${errors.map((e) => e.message).join("; ")}`);
    this.name = "InvalidGraphError";
  }
}

export const temporalWorkflowId = workflowIds.run;

/** The node and edge columns a snapshot keeps. */
export interface GraphNodeRow {
  id: string;
  name: string;
  type: string;
  config: Record<string, unknown>;
}
export interface GraphEdgeRow {
  id: string;
  source_node_id: string;
  target_node_id: string;
  condition: string | null;
}

/** The workflow settings a snapshot pins along with its graph. */
export interface SnapshotSource {
  id: string;
  version: number;
  max_parallel: number;
  on_failure?: "fail_fast" | "continue";
}

/** Node and edge rows as they appear in a snapshot (and in its content hash). */
export function snapshotGraph(
  nodes: readonly GraphNodeRow[],
  edges: readonly GraphEdgeRow[],
): { nodes: SnapshotNode[]; edges: SnapshotEdge[] } {
  return {
    nodes: nodes.map((n) => ({ id: n.id, name: n.name, type: n.type, config: n.config })),
    edges: edges.map((e) => ({
      id: e.id,
      source_node_id: e.source_node_id,
      target_node_id: e.target_node_id,
      condition: e.condition ?? null,
    })),
  };
}

/** The workflow's current graph as an immutable, hashed snapshot; throws InvalidGraphError. */
export function snapshotWorkflow(sql: Sql, workflow: SnapshotSource): Promise<WorkflowSnapshot> {
  return dbSpan("workflows.snapshot", () => snapshotWorkflowUntraced(sql, workflow));
}

type Graph = Pick<WorkflowSnapshot, "nodes" | "edges" | "hash">;

/**
 * Validated, hashed graphs by workflow id and version. Every change to a workflow's nodes or edges makes a new
 * version in the same transaction (api/workflows/store.ts bumpVersion), so a version's graph never changes: a run
 * of a version this process has snapshotted before reads no nodes or edges and validates and hashes nothing. A
 * graph is kept only when it was read in one statement with that version still current.
 */
const graphs = new Map<string, Graph>();
const GRAPHS_KEPT = 1_000;

async function snapshotWorkflowUntraced(sql: Sql, workflow: SnapshotSource): Promise<WorkflowSnapshot> {
  const id = workflow.id;
  const key = `${id}:${workflow.version}`;
  let graph = graphs.get(key);
  if (!graph) {
    const [row] = await sql<{ version: number; nodes: GraphNodeRow[]; edges: GraphEdgeRow[] }[]>`
      SELECT w.version,
        coalesce((SELECT json_agg(json_build_object('id', n.id, 'name', n.name, 'type', n.type, 'config', n.config)
                    ORDER BY n.created_at, n.id) FROM nodes n WHERE n.workflow_id = w.id), '[]') AS nodes,
        coalesce((SELECT json_agg(json_build_object('id', e.id, 'source_node_id', e.source_node_id,
                    'target_node_id', e.target_node_id, 'condition', e.condition) ORDER BY e.created_at, e.id)
                    FROM edges e WHERE e.workflow_id = w.id), '[]') AS edges
      FROM workflows w WHERE w.id = ${id}`;
    const [nodes, edges] = [row?.nodes ?? [], row?.edges ?? []];
    const validation = validateWorkflow(nodes, edges);
    if (!validation.valid) throw new InvalidGraphError(validation.errors);
    const { nodes: snapNodes, edges: snapEdges } = snapshotGraph(nodes, edges);
    graph = { nodes: snapNodes, edges: snapEdges, hash: await graphHash(snapNodes, snapEdges) };
    if (row?.version === workflow.version) {
      if (graphs.size >= GRAPHS_KEPT) graphs.delete(graphs.keys().next().value!);
      graphs.set(key, graph);
    }
  }
  return {
    workflow_id: id,
    version: workflow.version,
    hash: graph.hash,
    max_parallel: workflow.max_parallel,
    on_failure: workflow.on_failure ?? "fail_fast",
    nodes: graph.nodes,
    edges: graph.edges,
  };
}

export interface NewRun {
  runId: string;
  retryOf?: string;
  workflowId: string;
  /** The workspace the run belongs to: its workflow's. */
  workspaceId: string;
  /** The person who started it; null for an API key, a webhook or a schedule (the audit log names those). */
  startedBy: string | null;
  input: unknown;
  snapshot: WorkflowSnapshot;
  trigger: RunTrigger;
  /** Outputs a re-run reuses, kept so a lost workflow start can be made again (api/runs/orphans.ts). */
  reuse?: Record<string, unknown>;
  /** The run that started this one (sub_workflow, map, error workflow) and its node's name. */
  parent?: { runId: string; node: string | null };
}

export function insertRun(sql: Sql, run: NewRun): Promise<void> {
  return dbSpan("workflow_runs.insert", () => insertRunUntraced(sql, run));
}

/** The version's row (kept once, for the versions API) and the run's, in one statement: one round trip. */
async function insertRunUntraced(sql: Sql, run: NewRun): Promise<void> {
  await sql`
    WITH s AS (SELECT ${sql.json(jsonValue(run.snapshot))}::jsonb AS snapshot),
    version AS (
      INSERT INTO workflow_versions (workflow_id, version, hash, snapshot)
      SELECT ${run.workflowId}::uuid, ${run.snapshot.version}::int, ${run.snapshot.hash}::text, s.snapshot FROM s
      ON CONFLICT (workflow_id, version) DO NOTHING)
    INSERT INTO workflow_runs (id, workflow_id, workspace_id, owner_id, status, input, snapshot, version_hash,
                               workflow_version, temporal_workflow_id, trigger, retry_of, start_reuse, parent_run_id,
                               parent_node)
    SELECT ${run.runId}::uuid, ${run.workflowId}::uuid, ${run.workspaceId}::uuid, ${run.startedBy}::uuid, 'pending',
           ${sql.json(jsonValue(run.input))}::jsonb, s.snapshot, ${run.snapshot.hash}::text,
           ${run.snapshot.version}::int, ${temporalWorkflowId(run.runId)}::text, ${run.trigger}::text,
           ${run.retryOf ?? null}::uuid, ${run.reuse ? sql.json(jsonValue(run.reuse)) : null}::jsonb,
           ${run.parent?.runId ?? null}::uuid, ${run.parent?.node ?? null}::text
      FROM s`;
}
