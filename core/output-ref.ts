/**
 * Large node outputs travel through Temporal by reference: the output itself stays in PostgreSQL
 * (node_executions.output) and Temporal carries `{"$weft_ref": {...}}`, so no run meets the 2 MB payload limit.
 */
import { isOutputRef, outputRef } from "./contract.ts";

export { isOutputRef, type OutputRef, outputRef } from "./contract.ts";

/** Outputs whose JSON is larger than this are passed by reference. */
export const INLINE_OUTPUT_LIMIT_BYTES = 256 * 1024;
/**
 * A local activity's output travels back with its workflow task's completion, beside every other local node's of
 * that task (workflows/local-budget.ts bounds how many): outputs above this are passed by reference instead.
 */
export const LOCAL_INLINE_OUTPUT_LIMIT_BYTES = 16 * 1024;

/** The largest output a node passes inline, by how it runs. */
export const inlineLimit = (execution: "local" | "activity" | undefined): number =>
  execution === "local" ? LOCAL_INLINE_OUTPUT_LIMIT_BYTES : INLINE_OUTPUT_LIMIT_BYTES;

export function jsonBytes(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value ?? null)).length;
}

/** A node's output as Temporal carries it: itself up to `limit` bytes of JSON, a reference to its row above. */
export function inlineOrRef(runId: string, nodeId: string, output: unknown, limit = INLINE_OUTPUT_LIMIT_BYTES) {
  const bytes = jsonBytes(output);
  return bytes <= limit ? output : outputRef(runId, nodeId, bytes);
}

/** Whether any upstream output in a template context is a reference. */
export function contextHasRefs(context: { nodes?: Record<string, { output: unknown }> }): boolean {
  return Object.values(context.nodes ?? {}).some((n) => isOutputRef(n.output));
}
