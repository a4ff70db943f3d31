/**
 * What the API asks of Temporal, independent of the transport: the handlers depend on this interface only,
 * and the API process implements it over Temporal's HTTP API (./http.ts).
 */

export interface StartWorkflowOptions {
  workflowId: string;
  taskQueue: string;
  args: unknown[];
  /** Keyword search attributes by name (the cluster must have them). */
  searchAttributes?: Record<string, string>;
  /** The whole execution's limit, e.g. "30s". */
  executionTimeout?: string;
  /**
   * Refuse the start when any workflow with this id ever existed, closed or not: a run's start may be made
   * again after a crash (api/runs/orphans.ts) and must never run a finished run a second time.
   */
  rejectDuplicate?: boolean;
}

export interface ScheduleOptions {
  cron: string;
  timezone: string;
  paused: boolean;
  note: string;
  memo: Record<string, unknown>;
  /** Every firing starts this workflow; Temporal appends the firing time to `workflowId`. */
  action: { workflowType: string; workflowId: string; taskQueue: string; args: unknown[] };
  /** Firings missed while Temporal was away are caught up only within this window, e.g. "60s". */
  catchupWindow: string;
}

/** A Temporal failure as the API reads it: the message and, for application failures, their type. */
export interface TemporalFailure {
  message: string;
  /** Set on application failures: what the workflow or activity threw. */
  type?: string;
  cause?: TemporalFailure;
}

/** Temporal's execution status without its prefix: RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, ... */
export type WorkflowStatusName = string;

export interface TemporalApi {
  /** Starts a workflow; returns the run id of its first execution. */
  startWorkflow(workflowType: string, options: StartWorkflowOptions): Promise<{ runId: string }>;
  /** Starts a workflow and waits for its result; a workflow that does not complete throws WorkflowFailedError. */
  executeWorkflow(workflowType: string, options: StartWorkflowOptions): Promise<unknown>;
  workflowStatus(workflowId: string): Promise<WorkflowStatusName>;
  /** The run id of the workflow's latest execution; WorkflowNotFoundError when there is none. */
  workflowRunId(workflowId: string): Promise<string>;
  /** How many workers polled the task queue lately, for workflow and for activity tasks. */
  taskQueuePollers(taskQueue: string): Promise<{ workflow: number; activity: number }>;
  cancelWorkflow(workflowId: string): Promise<void>;
  /** Ends a workflow at once, running none of its code; throws WorkflowNotFoundError when none is running. */
  terminateWorkflow(workflowId: string, reason: string): Promise<void>;
  /** Sends a signal (delivered durably, answered once recorded); WorkflowNotFoundError when none is running. */
  signalWorkflow(workflowId: string, signalName: string, args: unknown[]): Promise<void>;
  /** Sends an update and waits for its outcome; a rejected or failed update throws WorkflowUpdateFailedError. */
  executeUpdate(workflowId: string, updateName: string, args: unknown[]): Promise<unknown>;
  /** Throws InvalidArgumentError when Temporal refuses the spec (a bad cron expression or time zone). */
  createSchedule(scheduleId: string, options: ScheduleOptions): Promise<void>;
  /** Throws ScheduleNotFoundError when there is no such schedule. */
  deleteSchedule(scheduleId: string): Promise<void>;
  /** Readiness: the server answers. */
  systemInfo(signal?: AbortSignal): Promise<{ serverVersion?: string }>;
}

/** gRPC status codes, which Temporal's HTTP API reports as `code` in its error bodies. */
export const GrpcCode = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  FAILED_PRECONDITION: 9,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** An error answer from Temporal: {code, message, details}. */
export class TemporalServiceError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly httpStatus: number,
    readonly details: unknown[] = [],
  ) {
    super(message);
    this.name = "TemporalServiceError";
  }
}

/** No such workflow, or it has already closed (for an update). */
export class WorkflowNotFoundError extends TemporalServiceError {
  override name = "WorkflowNotFoundError";
}

export class WorkflowAlreadyStartedError extends TemporalServiceError {
  override name = "WorkflowAlreadyStartedError";
}

export class ScheduleNotFoundError extends TemporalServiceError {
  override name = "ScheduleNotFoundError";
}

/** Temporal refused a request's content, e.g. an invalid schedule spec. */
export class InvalidArgumentError extends TemporalServiceError {
  override name = "InvalidArgumentError";
}

/** The update was rejected by its validator or failed in its handler; `cause` is what the workflow threw. */
export class WorkflowUpdateFailedError extends Error {
  override name = "WorkflowUpdateFailedError";
  constructor(readonly failure: TemporalFailure) {
    super("Workflow Update failed", { cause: failure });
  }
}

/** The workflow closed without a result: failed, timed out, terminated or cancelled. */
export class WorkflowFailedError extends Error {
  override name = "WorkflowFailedError";
  constructor(message: string, readonly failure?: TemporalFailure) {
    super(message, { cause: failure });
  }
}
