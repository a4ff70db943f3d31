/**
 * The activities the workflows call, as the workflows see them: inputs, outputs and signatures. The worker's
 * activity factory is checked against `WorkflowActivities` (activities/index.ts), so workflows need no import
 * from activities/. Read through core/contract.ts.
 */
import type { SnapshotNode, WorkflowSnapshot } from "./snapshot.ts";
import type { ScheduledRunInput, SearchCollectionInput, SearchCollectionResult } from "./contract.ts";

/** The failure a node execution records: its message, its type (core/failure-types.ts) and whether it retried. */
export interface NodeError {
  message: string;
  type: string;
  retryable: boolean;
}

// ---- Node execution (activities/execute-node.ts).

export interface ExecuteNodeInput {
  runId: string;
  node: SnapshotNode;
  /** `input` (the run input), `nodes.<name>.output` for the upstream nodes it reads, `run.id`. */
  context: Record<string, unknown>;
}

/**
 * Sibling nodes the workflow started at once, run by one activity: the upstream outputs they read travel once,
 * each member names those it sees.
 */
export interface ExecuteNodeGroupInput {
  runId: string;
  input: unknown;
  nodes: Record<string, { output: unknown }>;
  members: { node: SnapshotNode; reads: string[] }[];
  /** fail_fast: a member's final failure cancels the members still running. */
  failFast: boolean;
}

/** What a group member ended as. */
export type GroupOutcome =
  | { status: "succeeded"; output: unknown }
  | { status: "failed"; error: NodeError }
  | { status: "cancelled" };

// ---- Run bookkeeping (activities/runs/bookkeeping.ts), run by the workflow as local activities.

export interface FinishRun {
  runId: string;
  status: "succeeded" | "failed" | "cancelled";
  output: Record<string, unknown>;
  error?: { message: string; node?: string } | null;
}

/** Nodes the workflow decided about without running them: skipped, or reused from an earlier run. */
export interface NodeOutcome {
  node_id: string;
  node_name: string;
  type: string;
  status: "skipped" | "reused";
  output?: unknown;
  reason?: string;
}

export interface ApprovalRecord {
  runId: string;
  node_id: string;
  node_name: string;
  /** The rendered config (its message), recorded as the execution's input. */
  input: Record<string, unknown>;
}

export interface ApprovalDecisionRecord {
  runId: string;
  node_id: string;
  status: "succeeded" | "failed" | "cancelled";
  output: unknown;
  error?: NodeError | null;
}

// ---- Conditions and approval messages (activities/runs/conditions.ts).

/** All the conditional edges out of one finished node: the outputs they read travel once. */
export interface EvaluateConditionsInput {
  runId: string;
  input: unknown;
  nodes: Record<string, { output: unknown }>;
  conditions: { condition: string; reads: string[] }[];
}

/** Each condition's outcome, in order: taken or not, or why it could not be decided. */
export type ConditionOutcome = { taken: boolean } | { error: string };

// ---- Scheduled runs (activities/runs/scheduling.ts).

export interface CreateScheduledRun extends ScheduledRunInput {
  /** Chosen by the workflow, so a retried attempt finds the run an earlier one inserted. */
  runId: string;
}

export interface ScheduledRunCreated {
  runId: string;
  snapshot: WorkflowSnapshot;
  input: Record<string, unknown>;
}

// ---- Control flow (activities/runs/child-runs.ts, activities/map/): child runs, error runs, map items.

/** A run a sub_workflow or map node starts as a Temporal child workflow (its id chosen by the workflow). */
export interface CreateChildRun {
  parentRunId: string;
  /** The parent's node name. */
  parentNode: string;
  runId: string;
  workflowId: string;
  version: "latest" | number;
  input: Record<string, unknown>;
  trigger: "sub_workflow" | "map";
  /** A map over a workflow: the item this run is for (recorded as the item's child run). */
  item?: { nodeId: string; index: number };
}

export interface ChildRunCreated {
  runId: string;
  /** The tenant: the run's workspace (a personal workspace's id is its user's), as in ScheduledRunInput. */
  ownerId: string;
  snapshot: WorkflowSnapshot;
  input: Record<string, unknown>;
}

/** A failed run's error workflow, if its workflow names one: the run it starts (null when none). */
export interface CreateErrorRun {
  failedRunId: string;
  runId: string;
  failure: { message: string; node?: string };
}

/** A control node's execution row: waiting (delay, wait_for_event) or running (map, sub_workflow). */
export interface ControlNodeRecord {
  runId: string;
  node_id: string;
  node_name: string;
  type: string;
  status: "running" | "waiting";
  input: Record<string, unknown>;
}

/** A map node: its items evaluated and stored as rows, or (over a workflow) one item's child run input. */
export interface MapRequest {
  runId: string;
  node: SnapshotNode;
  context: Record<string, unknown>;
}

/** Items [from, to) of a map node, run by one activity with the map's concurrency and the item node's retries. */
export interface MapItemsRequest extends MapRequest {
  from: number;
  to: number;
}

export interface MapCounts {
  total: number;
  succeeded: number;
  failed: number;
  /** prepareMap over a workflow: the items still to run (a re-run takes the others from the run it retries). */
  pending?: number[];
}

/** A map's per-item delay or wait_for_event (the workflow runs it): the item's config rendered, or why not. */
export interface MapItemConfig {
  index: number;
  config?: Record<string, unknown>;
  error?: string;
}

/** Item rows as the workflow-side items of a map move: started (running), then ended with an output or error. */
export interface MapItemsRecord {
  runId: string;
  node: SnapshotNode;
  items: { index: number; status: "running" | "succeeded" | "failed"; output?: unknown; error?: NodeError }[];
}

// ---- Ingestion and retention.

export interface IngestionRef {
  ingestionId: string;
}

export interface PruneBatch {
  batchSize: number;
}

/** Every activity a workflow calls, with the signature the workflow relies on. */
export interface WorkflowActivities {
  executeNode(input: ExecuteNodeInput): Promise<unknown>;
  executeNodeGroup(group: ExecuteNodeGroupInput): Promise<GroupOutcome[]>;
  markRunStarted(runId: string): Promise<void>;
  setRunStatus(r: { runId: string; status: "running" | "waiting" }): Promise<void>;
  recordApprovalWaiting(r: ApprovalRecord): Promise<void>;
  recordApprovalDecision(r: ApprovalDecisionRecord): Promise<void>;
  recordNodeOutcomes(r: { runId: string; outcomes: NodeOutcome[] }): Promise<void>;
  markRunFinished(finish: FinishRun): Promise<void>;
  evaluateCondition(r: { condition: string; context: Record<string, unknown> }): Promise<boolean>;
  evaluateConditions(r: EvaluateConditionsInput): Promise<ConditionOutcome[]>;
  renderApprovalInput(
    r: { value: Record<string, unknown>; context: Record<string, unknown> },
  ): Promise<Record<string, unknown>>;
  createScheduledRun(req: CreateScheduledRun): Promise<ScheduledRunCreated>;
  createChildRun(req: CreateChildRun): Promise<ChildRunCreated>;
  createErrorRun(req: CreateErrorRun): Promise<ChildRunCreated | null>;
  recordControlStarted(r: ControlNodeRecord): Promise<void>;
  recordControlFinished(r: ApprovalDecisionRecord): Promise<void>;
  renderNodeInput(
    r: { value: Record<string, unknown>; context: Record<string, unknown> },
  ): Promise<Record<string, unknown>>;
  prepareMap(r: MapRequest): Promise<MapCounts>;
  executeMapItems(r: MapItemsRequest): Promise<MapCounts>;
  mapItemInput(r: MapRequest & { index: number }): Promise<Record<string, unknown>>;
  finishMap(r: MapRequest): Promise<{ output: unknown; counts: MapCounts }>;
  mapItemConfigs(r: MapRequest): Promise<MapItemConfig[]>;
  recordMapItems(r: MapItemsRecord): Promise<void>;
  embedIngestion(r: IngestionRef): Promise<{ embedded: number }>;
  commitIngestion(r: IngestionRef): Promise<{ document_count: number } | null>;
  failIngestion(r: IngestionRef & { message: string }): Promise<void>;
  searchCollection(input: SearchCollectionInput): Promise<SearchCollectionResult>;
  pruneExpiredRuns(r: PruneBatch): Promise<{ deleted: number; retentionDays: number }>;
}
