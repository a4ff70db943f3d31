/** A node's type and config checked against core's node types before anything is stored. */
import { isNodeType, KNOWN_NODE_TYPES, parseNodeConfig } from "../../core/node-types.ts";
import { checkNodeExpressions } from "../../core/workflow-validation.ts";
import { ApiError } from "../errors.ts";
import type { Sql } from "../../db/client.ts";
import { childWorkflowIds } from "../../core/control-nodes.ts";
import { ownedWorkflowIds } from "../workflows/store.ts";

/** Returns the config as stored (defaults applied) or throws a 400 naming the bad fields. */
export function checkNodeConfig(type: string, config: unknown): Record<string, unknown> {
  if (!isNodeType(type)) {
    throw new ApiError(
      "UNKNOWN_NODE_TYPE",
      `unknown node type "${type}"; known types: ${KNOWN_NODE_TYPES.join(", ")}`,
      {
        known_types: KNOWN_NODE_TYPES,
      },
    );
  }
  const parsed = parseNodeConfig(type, config);
  if (!parsed.ok) {
    const fields = parsed.issues.map((i) => i.path).join(", ");
    throw new ApiError(
      "VALIDATION_ERROR",
      `invalid config for ${type}: ${fields}`,
      parsed.issues.map((i) => ({ field: i.path, location: "body", message: i.message })),
    );
  }
  const problems = checkNodeExpressions(type, parsed.config);
  if (problems.length) {
    throw new ApiError(
      "VALIDATION_ERROR",
      `invalid template in ${problems.map((p) => p.path).join(", ")}: ${problems[0].message}`,
      problems.map((p) => ({ field: p.path, location: "body", message: p.message })),
    );
  }
  return parsed.config;
}

/** A sub_workflow or map must name a workflow of the same workspace (checked again when the child run starts). */
export async function checkChildWorkflows(
  sql: Sql,
  workspaceId: string,
  type: string,
  config: Record<string, unknown>,
): Promise<void> {
  const ids = childWorkflowIds(type, config);
  if (!ids.length) return;
  const owned = await ownedWorkflowIds(sql, workspaceId, ids);
  const missing = ids.filter((id) => !owned.has(id));
  if (!missing.length) return;
  const message = `there is no workflow ${missing[0]} in this workspace to run`;
  throw new ApiError("VALIDATION_ERROR", `invalid config for ${type}: config.workflow_id: ${message}`, [
    { field: "config.workflow_id", location: "body", message },
  ]);
}
