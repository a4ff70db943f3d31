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
  embedIngestion(r: IngestionRef): Promise<{ embedded: number }>;
  commitIngestion(r: IngestionRef): Promise<{ document_count: number } | null>;
  failIngestion(r: IngestionRef & { message: string }): Promise<void>;
  searchCollection(input: SearchCollectionInput): Promise<SearchCollectionResult>;
  pruneExpiredRuns(r: PruneBatch): Promise<{ deleted: number; retentionDays: number }>;
}
