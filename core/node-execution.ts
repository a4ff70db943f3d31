/**
 * Which nodes run as Temporal local activities (inside the workflow task, no matching round trip) and which as
 * regular activities. Imported by the workflow bundle, so it holds no schema: the `durable_step` key itself is
 * validated with the other common keys (core/node-common.ts).
 */
import { DEFAULT_NODE_TIMEOUT_MS } from "./node-policy.ts";

/** How one node execution ran: in the workflow task as a local activity, or as a regular activity. */
export type NodeExecutionKind = "local" | "activity";

/**
 * An http_request or db_write runs locally when its timeout is at most this long. A local activity holds its
 * workflow task, and Temporal's default workflow task timeout is 10 s: past it the SDK must heartbeat the task
 * (an extra workflow task each ~8 s) and a crash is only noticed when the task times out. Within it, a node
 * costs no activity task round trip (~10 ms of server and worker CPU here, docs/benchmarks.md).
 */
export const LOCAL_TIMEOUT_LIMIT_MS = 10_000;

/** Node types that may run locally: they run in the worker's own process, never on the GPU queue. */
const LOCAL_TYPES: ReadonlySet<string> = new Set(["transform", "http_request", "db_write"]);

/**
 * The rule: `transform` always (pure, bounded by the expression pool), `http_request` and `db_write` when their
 * `timeout_ms` (default 60 s) is at most LOCAL_TIMEOUT_LIMIT_MS; never with `durable_step: true`, and never any
 * other type (GPU nodes, approvals, control flow, map items, sub-workflows).
 */
export function runsLocally(type: string, config: Record<string, unknown>): boolean {
  if (!LOCAL_TYPES.has(type) || config.durable_step === true) return false;
  if (type === "transform") return true;
  const timeoutMs = typeof config.timeout_ms === "number" ? config.timeout_ms : DEFAULT_NODE_TIMEOUT_MS;
  return timeoutMs <= LOCAL_TIMEOUT_LIMIT_MS;
}
