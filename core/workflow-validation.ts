/** Whole-workflow validation: the graph's shape plus every node's type, config and templates. */
import { type GraphError, type GraphValidation, validateGraph } from "./graph.ts";
import { isNodeType, KNOWN_NODE_TYPES, nodeTypes, parseNodeConfig } from "./node-types.ts";
import { checkExpression, checkTemplates } from "./template.ts";
import { secretPlacementProblems } from "./secret-placement.ts";
import { childWorkflowIds, itemsIsTemplate, itemsProblem } from "./control-nodes.ts";

export interface WorkflowNodeLike {
  id: string;
  name: string;
  type: string;
  config: unknown;
}

export interface WorkflowEdgeLike {
  source_node_id: string;
  target_node_id: string;
}

export interface ValidateOptions {
  /** The workflows the owner has: a sub_workflow or map naming any other is an error. Unchecked when absent. */
  workflowIds?: ReadonlySet<string>;
}

export function validateWorkflow(
  nodes: WorkflowNodeLike[],
  edges: WorkflowEdgeLike[],
  options: ValidateOptions = {},
): GraphValidation {
  const result = validateGraph(nodes, edges);
  const errors: GraphError[] = [...result.errors];
  for (const node of nodes) {
    if (!isNodeType(node.type)) {
      errors.push({
        code: "UNKNOWN_NODE_TYPE",
        message: `node "${node.name}" has unknown type "${node.type}" (known: ${KNOWN_NODE_TYPES.join(", ")})`,
        node_ids: [node.id],
      });
      continue;
    }
    const parsed = parseNodeConfig(node.type, node.config);
    const issues = parsed.ok ? checkNodeExpressions(node.type, parsed.config) : parsed.issues;
    for (const issue of issues) {
      errors.push({
        code: "INVALID_CONFIG",
        message: `node "${node.name}": ${issue.path}: ${issue.message}`,
        node_ids: [node.id],
      });
    }
    if (!parsed.ok || !options.workflowIds) continue;
    for (const child of childWorkflowIds(node.type, parsed.config)) {
      if (options.workflowIds.has(child)) continue;
      errors.push({
        code: "INVALID_CONFIG",
        message: `node "${node.name}": config.workflow_id: there is no workflow ${child} of this owner to run`,
        node_ids: [node.id],
      });
    }
  }
  return { ...result, valid: errors.length === 0, errors };
}

/** Templates in ordinary fields; whole JSONata expressions in a type's expression fields. */
export function checkNodeExpressions(
  type: keyof typeof nodeTypes,
  config: Record<string, unknown>,
): { path: string; message: string }[] {
  if (type === "map") return checkMapExpressions(config);
  const expressionFields: readonly string[] = nodeTypes[type].expressionFields;
  const problems = checkTemplates(
    Object.fromEntries(Object.entries(config).filter(([k]) => !expressionFields.includes(k))),
  );
  for (const field of expressionFields) {
    const problem = typeof config[field] === "string" ? checkExpression(config[field] as string) : null;
    if (problem) problems.push({ path: `config.${field}`, message: problem });
  }
  problems.push(...secretPlacementProblems(type, config, expressionFields));
  return problems;
}

/** A map's `items` (one whole template or an expression), its child input, and its per-item node's own checks. */
function checkMapExpressions(config: Record<string, unknown>) {
  const { items, node, ...rest } = config as {
    items: string;
    node?: { type: keyof typeof nodeTypes; config: Record<string, unknown> };
  };
  const problems = checkTemplates(rest);
  // Secrets belong to the per-item node (checked with it below), never to the items or a child run's input.
  problems.push(...secretPlacementProblems("map", { items, ...rest }, itemsIsTemplate(items) ? [] : ["items"]));
  const shape = itemsProblem(items);
  const compiled = shape ??
    (itemsIsTemplate(items) ? checkTemplates(items, "config.items")[0]?.message ?? null : checkExpression(items));
  if (compiled) problems.push({ path: "config.items", message: compiled });
  if (node) {
    for (const p of checkNodeExpressions(node.type, node.config)) {
      problems.push({ ...p, path: p.path.replace(/^config/, "config.node.config") });
    }
  }
  return problems;
}
