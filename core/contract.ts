/**
 * The contract between the API, the workflows and the activities: workflow and update names, workflow ids,
 * every workflow and activity input and output, run and node statuses, output references and failure types.
 * Both sides import these names instead of spelling strings, so a rename on one side fails the type check.
 * Bundle-safe: plain constants and types only (it enters the workflow bundle and runs on Deno).
 */
import type { ApprovalDecision } from "./node-kinds.ts";
import type { SnapshotEdge, SnapshotNode, WorkflowSnapshot } from "./snapshot.ts";

export type { ApprovalDecision } from "./node-kinds.ts";
export { FAILURE_TYPES, type FailureType, isNodeFailureCode, nodeFailureCodeProblem } from "./failure-types.ts";
export type { FailureTypeInfo, HttpFailureType } from "./failure-types.ts";

// ---- Workflow types: the worker registers these functions (workflows/index.ts checks it), the API starts them.

export interface WorkflowSignatures {
  runDag(input: RunDagInput): Promise<RunDagResult>;
  scheduledRun(input: ScheduledRunInput): Promise<RunDagResult>;
  ingestDocuments(input: IngestDocumentsInput): Promise<{ document_count: number }>;
  searchCollection(input: SearchCollectionInput): Promise<SearchCollectionResult>;
  pruneRuns(input?: PruneRunsInput): Promise<{ deleted: number }>;
  mapBatch(input: MapBatchInput): Promise<MapBatchResult>;
}
export type WorkflowType = keyof WorkflowSignatures;
export type WorkflowArgs<K extends WorkflowType> = Parameters<WorkflowSignatures[K]>;

export const WORKFLOW_TYPES = {
  runDag: "runDag",
  scheduledRun: "scheduledRun",
  ingestDocuments: "ingestDocuments",
  searchCollection: "searchCollection",
  pruneRuns: "pruneRuns",
  mapBatch: "mapBatch",
} as const satisfies { [K in WorkflowType]: K };

/** A start's arguments, checked against the workflow's contract signature: `args: workflowArgs("runDag", input)`. */
export function workflowArgs<K extends WorkflowType>(_type: K, ...args: WorkflowArgs<K>): WorkflowArgs<K> {
  return args;
}

// ---- Updates: the workflow builds its handler with `defineUpdate` from the name; the API sends the same name.

/** A Temporal update as both sides know it: its name, with its argument and result types attached. */
export interface UpdateContract<Args extends unknown[], Result, Name extends string = string> {
  readonly name: Name;
  /** Types only: never set. */
  readonly types?: { args: Args; result: Result };
}
export type UpdateArgs<U> = U extends UpdateContract<infer A, unknown> ? A : never;
export type UpdateResult<U> = U extends UpdateContract<unknown[], infer R> ? R : never;

/** A person's decision on an approval node; rejected unless that node is waiting. */
export const approveUpdate: UpdateContract<[ApprovalDecision], { accepted: true }, "approve"> = { name: "approve" };

/** A Temporal signal as both sides know it: its name, with its argument types attached. */
export interface SignalContract<Args extends unknown[], Name extends string = string> {
  readonly name: Name;
  /** Types only: never set. */
  readonly types?: { args: Args };
}
export type SignalArgs<S> = S extends SignalContract<infer A> ? A : never;

/** An event sent to a run (`POST …/runs/{run_id}/signals/{event}`): queued by name until a wait_for_event takes it. */
export interface RunEvent {
  event: string;
  data: unknown;
  received_at: string;
}
export const runEventSignal: SignalContract<[RunEvent], "event"> = { name: "event" };

/** An update's arguments, checked against its contract: `updateArgs(approveUpdate, decision)`. */
export function updateArgs<A extends unknown[]>(_update: UpdateContract<A, unknown>, ...args: A): A {
  return args;
}

// ---- Workflow ids: each names what it runs for (db/payload-keys.ts finds the owner from it).

export const WORKFLOW_ID_PREFIX = {
  run: "weft-run-",
  schedule: "weft-schedule-",
  ingestion: "weft-ingest-",
  search: "weft-search-",
} as const;

export const workflowIds = {
  /** A run's runDag workflow, whoever started it (the API or a schedule's scheduledRun). */
  run: (runId: string) => `${WORKFLOW_ID_PREFIX.run}${runId}`,
  /** A Weft schedule's Temporal Schedule; each firing's workflow id is this, a dash and the firing time. */
  schedule: (scheduleId: string) => `${WORKFLOW_ID_PREFIX.schedule}${scheduleId}`,
  ingestion: (ingestionId: string) => `${WORKFLOW_ID_PREFIX.ingestion}${ingestionId}`,
  /** One search, under the id of its registered request (vector_search_requests). */
  search: (requestId: string) => `${WORKFLOW_ID_PREFIX.search}${requestId}`,
  /** One batch of a map over a workflow (workflows/map-batch.ts): the run's id, so its payloads are the run's tenant's. */
  mapBatch: (runId: string, nodeId: string, batch: number) =>
    `${WORKFLOW_ID_PREFIX.run}${runId}-map-${nodeId}-${batch}`,
  /** The hourly retention Schedule (its firings run pruneRuns). */
  retentionSchedule: "weft-run-retention",
} as const;

// ---- Statuses, as workflow_runs and node_executions store them (db/migrations/003_engine.sql).

export const RUN_STATUSES = ["pending", "running", "waiting", "succeeded", "failed", "cancelled"] as const;
export type RunStatus = typeof RUN_STATUSES[number];
export type FinalRunStatus = "succeeded" | "failed" | "cancelled";
/** A run in one of these is never written again. */
export const FINAL_RUN_STATUSES: ReadonlySet<string> = new Set<FinalRunStatus>(["succeeded", "failed", "cancelled"]);
/** Statuses in which a run's workflow may still act for it. */
export const LIVE_RUN_STATUSES = ["pending", "running", "waiting"] as const satisfies readonly RunStatus[];
export const isFinalRunStatus = (status: unknown): status is FinalRunStatus =>
  typeof status === "string" && FINAL_RUN_STATUSES.has(status);

export const NODE_STATUSES = ["running", "waiting", "succeeded", "failed", "cancelled", "skipped", "reused"] as const;
export type NodeStatus = typeof NODE_STATUSES[number];

// ---- Output references: large outputs stay in PostgreSQL and travel through Temporal as `{"$weft_ref": …}`.

export interface OutputRef {
  $weft_ref: { run_id: string; node_id: string; bytes: number };
}

export const outputRef = (runId: string, nodeId: string, bytes: number): OutputRef => ({
  $weft_ref: { run_id: runId, node_id: nodeId, bytes },
});

export function isOutputRef(value: unknown): value is OutputRef {
  return typeof value === "object" && value !== null && "$weft_ref" in value &&
    typeof (value as OutputRef).$weft_ref?.node_id === "string";
}

// ---- Workflow inputs and outputs.

export interface RunDagInput {
  runId: string;
  input: unknown;
  snapshot: WorkflowSnapshot;
  /** Outputs of nodes that succeeded in an earlier run, by node id: reused, not executed again. */
  reuse?: Record<string, unknown>;
  /** Whether the cluster has Weft's search attributes, so the workflow keeps WeftStatus current. */
  searchAttributes?: boolean;
  /** Continue as new once the history has this many events (Temporal's hard limit is 51,200). */
  maxHistoryEvents?: number;
  /** The task queue of GPU node types (llm_call, faiss_search); without it they run on the run's own queue. */
  gpuTaskQueue?: string;
  /** State carried over a continue-as-new: nodes already finished by earlier executions of this run. */
  carried?: CarriedState;
  /** How many runs above this one started it through sub_workflow or map nodes (0 or absent: a top run). */
  depth?: number;
  /** The deepest nesting of sub-workflows (core/control-nodes.ts DEFAULT_MAX_SUB_WORKFLOW_DEPTH when absent). */
  maxDepth?: number;
  /** A run of an error workflow: its failure starts no other error workflow. */
  errorRun?: boolean;
  /**
   * The run is marked running by its first node_executions row, not a markRunStarted call (set by the API, so its
   * runs need no patch marker; runs started by a workflow decide by the `weft-lean-bookkeeping` patch).
   */
  leanStart?: boolean;
  /** A map over a workflow with more items than this starts its child runs through mapBatch workflows. */
  mapBatchItems?: number;
}

/** What a run hands on to the runs (and map batches) it starts. */
export type RunLimits = Pick<
  RunDagInput,
  "searchAttributes" | "gpuTaskQueue" | "maxHistoryEvents" | "maxDepth" | "mapBatchItems"
>;

/** One batch of a map over a workflow: a child run per listed item, `concurrency` at a time. */
export interface MapBatchInput {
  /** The map's run: its id, its depth and the limits its child runs get. */
  run: RunLimits & Pick<RunDagInput, "runId" | "depth">;
  node: SnapshotNode;
  context: Record<string, unknown>;
  indices: number[];
  concurrency: number;
  /** Items of this batch that failed in its executions before a continue-as-new. */
  failedBefore?: number;
}

export interface MapBatchResult {
  /** Items of this batch that failed (under "fail", the batch stops at the first). */
  failed: number;
}

/** Why a run failed: the first failure, and the node it happened at. */
export interface RunFailure {
  message: string;
  node: string;
}

export interface CarriedState {
  /** Outputs (inline, or by reference when large) of nodes that succeeded, by node id. */
  succeeded: Record<string, unknown>;
  failed: string[];
  failure: RunFailure | null;
  /** Events received and not yet taken by a wait_for_event, in arrival order. */
  events?: RunEvent[];
}

export interface RunDagResult {
  status: "succeeded" | "failed";
  output: Record<string, unknown>;
  error?: { message: string; node?: string };
}

/** What a Temporal Schedule's action passes to the scheduledRun workflow. */
export interface ScheduledRunInput {
  workflowId: string;
  /** The tenant: the workspace the schedule belongs to (a personal workspace's id is its user's, as before). */
  ownerId: string;
  input: Record<string, unknown>;
  scheduleId: string;
  /** Whether the cluster has Weft's search attributes (set from the API's configuration). */
  searchAttributes?: boolean;
  /** The API's GPU task queue, handed to each firing's runDag (RunDagInput.gpuTaskQueue). */
  gpuTaskQueue?: string;
  /** The API's run limits, handed to each firing's runDag like an API-started run's (absent: the defaults). */
  maxDepth?: number;
  maxHistoryEvents?: number;
  mapBatchItems?: number;
}

export interface IngestDocumentsInput {
  ingestionId: string;
  collectionId: string;
}

type Scalar = string | number | boolean | null;
/** Every key must hold, by equality or membership (`{"in": [...]}`). */
export type MetadataFilter = Record<string, Scalar | { in: Scalar[] }>;

export interface SearchRequest {
  query: string;
  top_k: number;
  score_threshold?: number;
  filter?: MetadataFilter;
}

export interface SearchCollectionInput extends SearchRequest {
  collectionId: string;
  /** The tenant: the workspace the collection belongs to. */
  ownerId: string;
}

export interface SearchCollectionResult {
  results: { id: string; text: string; score: number; metadata: Record<string, unknown> }[];
}

export interface PruneRunsInput {
  batchSize?: number;
}

export * from "./activity-contract.ts";
export type { SnapshotEdge, SnapshotNode, WorkflowSnapshot };
