/**
 * Every failure type Weft's workflows and activities throw, one meaning each: a closed list, so the API matches
 * types that exist and a node's `retry.non_retryable_error_codes` names only codes that can happen. Read through
 * core/contract.ts. The README's node-type section lists the node failure types from here.
 */

export interface FailureTypeInfo {
  /** What happened. */
  meaning: string;
  /** Whether Temporal (or a node group) retries it under the node's retry policy. */
  retryable: boolean;
  /** Whether a node execution can fail with it (and so a node may name it in non_retryable_error_codes). */
  node: boolean;
}

export const FAILURE_TYPES = {
  // Bad input: the node's own configuration.
  InvalidConfig: { node: true, retryable: false, meaning: "the config is invalid after its templates rendered" },
  TemplateError: { node: true, retryable: false, meaning: "a `{{ }}` template failed to render" },
  ExpressionError: { node: true, retryable: false, meaning: "a transform's JSONata expression failed" },
  ExpressionLimit: { node: true, retryable: false, meaning: "an expression overran its time or memory bound" },
  SecretInExpression: { node: true, retryable: false, meaning: "a secret is placed inside an expression" },
  SecretNotFound: { node: true, retryable: false, meaning: "the config names a secret the owner does not have" },
  UnknownNodeType: { node: true, retryable: false, meaning: "the worker has no handler for the node type" },
  // Where a node may connect.
  EgressBlocked: { node: true, retryable: false, meaning: "the egress policy refused the address or scheme" },
  ResponseTooLarge: { node: true, retryable: false, meaning: "the answer exceeded max_response_bytes" },
  ConnectionNotDeclared: { node: true, retryable: false, meaning: "db_write names an undeclared connection" },
  ConnectionRefused: { node: true, retryable: false, meaning: "the connection's role has too much privilege" },
  // Transient faults, retried.
  Timeout: { node: true, retryable: true, meaning: "the attempt ran past timeout_ms" },
  NetworkError: { node: true, retryable: true, meaning: "the request failed before an answer arrived" },
  AttemptLost: { node: true, retryable: true, meaning: "the attempt's worker stopped or the attempt timed out" },
  // The node's target answered with an error.
  DbError: { node: true, retryable: false, meaning: "the statement itself is wrong (SQLSTATE class 22, 23, 42)" },
  ModelNotFound: { node: true, retryable: false, meaning: "llm_call names a model the worker does not have" },
  CollectionNotFound: { node: true, retryable: false, meaning: "the vector collection does not exist" },
  EmbeddingModelMismatch: {
    node: true,
    retryable: false,
    meaning: "the collection was embedded with another model than the worker's",
  },
  ApprovalRejected: { node: true, retryable: false, meaning: "a reviewer rejected, or the default decision did" },
  // Control flow (core/control-nodes.ts).
  EventTimeout: { node: true, retryable: false, meaning: "no event arrived before wait_for_event's timeout_ms" },
  ChildRunFailed: { node: true, retryable: false, meaning: "the sub-workflow's run failed" },
  NestingTooDeep: { node: true, retryable: false, meaning: "sub-workflows nest deeper than the allowed depth" },
  MapItemsInvalid: { node: true, retryable: false, meaning: "a map's items did not resolve to an array" },
  MapItemFailed: { node: true, retryable: false, meaning: "an item of a map failed (on_item_failure: fail)" },
  // The worker's own setup or the run's authority.
  SecretsUnavailable: { node: true, retryable: false, meaning: "the worker has no secrets master key" },
  SandboxUnavailable: { node: true, retryable: false, meaning: "the worker has no master key for sandbox roles" },
  RunNotFound: { node: true, retryable: false, meaning: "the run the node belongs to does not exist" },
  RunNotAuthorized: { node: true, retryable: false, meaning: "the workflow may not act for the run" },
  // Not node failures: the run's, a condition's, a schedule's; why a node did not run.
  NodeFailed: { node: false, retryable: false, meaning: "the run failed because a node (or a condition) failed" },
  ConditionError: { node: false, retryable: false, meaning: "an edge condition failed to evaluate" },
  WorkflowNotFound: { node: false, retryable: false, meaning: "a schedule fired for a deleted workflow" },
  InvalidGraph: { node: false, retryable: false, meaning: "a schedule fired for a graph that cannot run" },
  StartLost: { node: false, retryable: false, meaning: "the run could not be started in Temporal" },
  Skipped: { node: false, retryable: false, meaning: "not a failure: no incoming edge of the node was taken" },
  Reused: { node: false, retryable: false, meaning: "not a failure: the output came from an earlier run" },
} as const satisfies Record<string, FailureTypeInfo>;

/** An HTTP answer of this status: 4xx other than 408 and 429 are not retried; 5xx, 408 and 429 are. */
export type HttpFailureType = `HTTP_${number}`;
export type FailureType = keyof typeof FAILURE_TYPES | HttpFailureType;

const HTTP_CODE = /^HTTP_[1-5][0-9][0-9]$/;

/** Whether a node can fail with this type: a node failure type, or `HTTP_<status>`. */
export function isNodeFailureCode(code: string): boolean {
  return HTTP_CODE.test(code) ||
    (Object.hasOwn(FAILURE_TYPES, code) && FAILURE_TYPES[code as keyof typeof FAILURE_TYPES].node);
}

/** Why a `non_retryable_error_codes` entry is refused, or null when a node can fail with it. */
export function nodeFailureCodeProblem(code: string): string | null {
  if (isNodeFailureCode(code)) return null;
  return `unknown error code "${code}": expected HTTP_<status> or one of ${
    Object.entries(FAILURE_TYPES).filter(([, t]) => t.node).map(([name]) => name).join(", ")
  }`;
}
