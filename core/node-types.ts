/** The node types Weft knows, each with the zod schema its stored config must satisfy. */
import { z } from "zod";
import { isNodeType, nodeKinds, type NodeType } from "./node-kinds.ts";
import {
  delayConfigSchema,
  mapConfigSchema,
  mapItemDelayConfigSchema,
  mapItemWaitForEventConfigSchema,
  subWorkflowConfigSchema,
  waitForEventConfigSchema,
} from "./control-nodes.ts";

export {
  type ApprovalDecision,
  isNodeType,
  KNOWN_NODE_TYPES,
  NODE_NAME_PATTERN,
  nodeReferences,
  type NodeType,
} from "./node-kinds.ts";

export { commonConfig, retryPolicySchema } from "./node-common.ts";
import { commonConfig } from "./node-common.ts";

export const HTTP_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"] as const;

const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const httpRequestConfigSchema = z.object({
  method: z.enum(HTTP_METHODS).default("GET"),
  url: z.string().min(1).max(8192),
  headers: z.record(z.string(), z.string()).optional(),
  query: z.record(z.string(), scalar).optional(),
  body: z.unknown().optional(),
  verify_ssl: z.boolean().default(true),
  max_response_bytes: z.number().int().min(1).max(100 * 1024 * 1024).optional(),
  ...commonConfig,
}).strict();

export type HttpRequestConfig = z.infer<typeof httpRequestConfigSchema>;

/** Computes its output from the context with a JSONata expression: pure (no clock, no randomness). */
export const transformConfigSchema = z.object({
  expression: z.string().min(1).max(20_000),
  ...commonConfig,
}).strict();

/** Waits for a person: the run is `waiting` until approved or rejected through the API, or timed out. */
export const approvalConfigSchema = z.object({
  message: z.string().max(10_000).optional(),
  default_decision: z.enum(["approve", "reject"]).default("reject"),
  on_reject: z.enum(["fail", "continue"]).default("fail"),
  ...commonConfig,
}).strict();

/** A table or column name, optionally schema-qualified; escaped as an identifier, never interpolated. */
const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}(\.[A-Za-z_][A-Za-z0-9_$]{0,62})?$/, {
  message: "must be an identifier like orders or sales.orders",
});
const whereValue = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.null(),
  z.object({ in: z.array(z.unknown()).min(1).max(10_000) }).strict(),
  z.object({ is_null: z.boolean() }).strict(),
]);

export const structuredStatementSchema = z.object({
  operation: z.enum(["insert", "update", "delete", "select"]),
  table: identifier,
  values: z.union([z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown())).min(1)]).optional(),
  where: z.record(z.string(), whereValue).optional(),
  returning: z.union([z.literal("*"), z.array(identifier).min(1)]).optional(),
  columns: z.array(identifier).min(1).optional(),
  limit: z.number().int().min(1).max(100_000).optional(),
}).strict();

export const rawStatementSchema = z.object({
  sql: z.string().min(1).max(100_000).refine((text) => !text.includes("{{"), {
    message: "templates are not allowed in sql text; put values in params ($1, $2, …)",
  }),
  params: z.array(z.unknown()).max(1000).default([]),
}).strict();

export const dbStatementSchema = z.union([structuredStatementSchema, rawStatementSchema]);

/** A db_write connection name: one the operator declared in the worker's WEFT_DB_CONNECTIONS. */
export const CONNECTION_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
/** The reserved name of the built-in per-tenant sandbox (also what a node without `connection` uses). */
export const SANDBOX_CONNECTION = "sandbox";

/** Why a db_write `connection` value is not a connection name, or null when it is one. */
export function connectionNameProblem(value: string): string | null {
  if (CONNECTION_NAME_PATTERN.test(value)) return null;
  if (value.includes("{{") || value.includes("://")) {
    return "connection no longer takes a URL or a secret ({{secrets.…}}): it names a database connection the " +
      'operator declared in the worker\'s WEFT_DB_CONNECTIONS (e.g. "orders"); leave it out for the sandbox';
  }
  return "connection must be the name of an operator-declared database connection (letters, digits, _ and -)";
}

/** One statement at the top level, or several in `statements`, run in one transaction. */
export const dbWriteConfigSchema = z.object({
  statements: z.array(dbStatementSchema).min(1).max(100).optional(),
  operation: structuredStatementSchema.shape.operation.optional(),
  table: identifier.optional(),
  values: structuredStatementSchema.shape.values,
  where: structuredStatementSchema.shape.where,
  returning: structuredStatementSchema.shape.returning,
  columns: structuredStatementSchema.shape.columns,
  limit: structuredStatementSchema.shape.limit,
  sql: rawStatementSchema.shape.sql.optional(),
  params: z.array(z.unknown()).max(1000).optional(),
  max_rows: z.number().int().min(1).max(100_000).default(1000),
  /** Another database instead of the tenant's sandbox: the name of one the operator declared. */
  connection: z.string().max(2048).superRefine((v, ctx) => {
    const message = connectionNameProblem(v);
    if (message) ctx.addIssue({ code: "custom", message });
  }).optional(),
  ...commonConfig,
}).strict().superRefine((config, ctx) => {
  const forms = [config.statements !== undefined, config.operation !== undefined, config.sql !== undefined];
  if (forms.filter(Boolean).length !== 1) {
    ctx.addIssue({
      code: "custom",
      message: "give exactly one of statements, operation (with table) or sql",
      path: [],
    });
  }
  if (config.operation && !config.table) {
    ctx.addIssue({ code: "custom", message: "table is required", path: ["table"] });
  }
});

export type DbStatement = z.infer<typeof dbStatementSchema>;

/** A chat completion on the GPU queue's language model (a folder in the worker's MODEL_DIR). */
export const llmCallConfigSchema = z.object({
  prompt: z.string().min(1).max(200_000),
  system: z.string().max(200_000).optional(),
  model: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, { message: "a model folder name" }).optional(),
  /** 0 (the default) is greedy decoding: the same prompt gives the same text, on every attempt. */
  temperature: z.number().min(0).max(2).default(0),
  max_tokens: z.number().int().min(1).max(32_768).default(256),
  top_p: z.number().gt(0).max(1).optional(),
  stop: z.array(z.string().min(1).max(200)).max(16).optional(),
  seed: z.number().int().min(0).max(4_294_967_295).optional(),
  ...commonConfig,
}).strict();

const filterScalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** Nearest documents in one of the run owner's vector collections (by name or id). */
export const faissSearchConfigSchema = z.object({
  collection: z.string().min(1).max(200),
  query: z.string().min(1).max(100_000),
  top_k: z.number().int().min(1).max(1000).default(5),
  score_threshold: z.number().min(-1).max(1).optional(),
  /** Metadata equality ({"lang": "en"}) or membership ({"lang": {"in": ["en", "fr"]}}), all must hold. */
  filter: z.record(
    z.string(),
    z.union([filterScalar, z.object({ in: z.array(filterScalar).min(1).max(1000) }).strict()]),
  ).optional(),
  ...commonConfig,
}).strict();

/** Each node type's kind (core/node-kinds.ts) with the zod schema its stored config must satisfy. */
export const nodeTypes = {
  http_request: { ...nodeKinds.http_request, schema: httpRequestConfigSchema },
  transform: { ...nodeKinds.transform, schema: transformConfigSchema },
  approval: { ...nodeKinds.approval, schema: approvalConfigSchema },
  llm_call: { ...nodeKinds.llm_call, schema: llmCallConfigSchema },
  faiss_search: { ...nodeKinds.faiss_search, schema: faissSearchConfigSchema },
  db_write: { ...nodeKinds.db_write, schema: dbWriteConfigSchema },
  map: { ...nodeKinds.map, schema: mapConfigSchema },
  sub_workflow: { ...nodeKinds.sub_workflow, schema: subWorkflowConfigSchema },
  delay: { ...nodeKinds.delay, schema: delayConfigSchema },
  wait_for_event: { ...nodeKinds.wait_for_event, schema: waitForEventConfigSchema },
} as const satisfies Record<NodeType, unknown>;

export interface ConfigIssue {
  path: string;
  message: string;
}

/** Validates a node's stored config (templates not yet rendered) for its type. */
export function parseNodeConfig(
  type: NodeType,
  config: unknown,
): { ok: true; config: Record<string, unknown> } | { ok: false; issues: ConfigIssue[] } {
  const result = parseWith(nodeTypes[type].schema, config);
  return result.ok && type === "map" ? parseMapItemNode(result.config) : result;
}

const MAP_ITEM_SCHEMAS: Partial<Record<string, z.ZodTypeAny>> = {
  delay: mapItemDelayConfigSchema,
  wait_for_event: mapItemWaitForEventConfigSchema,
};

function parseWith(
  schema: z.ZodTypeAny,
  config: unknown,
): { ok: true; config: Record<string, unknown> } | { ok: false; issues: ConfigIssue[] } {
  const result = schema.safeParse(config ?? {});
  if (result.success) return { ok: true, config: result.data as Record<string, unknown> };
  return {
    ok: false,
    issues: result.error.issues.map((i) => ({ path: ["config", ...i.path].join("."), message: i.message })),
  };
}

/** A map's per-item node is validated as a node of its own type (defaults applied), under `config.node.config`. */
function parseMapItemNode(
  config: Record<string, unknown>,
): { ok: true; config: Record<string, unknown> } | { ok: false; issues: ConfigIssue[] } {
  const node = config.node as { type: string; config: Record<string, unknown> } | undefined;
  if (!node) return { ok: true, config };
  if (!isNodeType(node.type)) {
    return { ok: false, issues: [{ path: "config.node.type", message: `unknown node type "${node.type}"` }] };
  }
  // A per-item delay or wait_for_event may template what the plain node takes literally (core/control-nodes.ts).
  const itemSchema = MAP_ITEM_SCHEMAS[node.type];
  const inner = itemSchema ? parseWith(itemSchema, node.config) : parseNodeConfig(node.type, node.config);
  if (!inner.ok) {
    return {
      ok: false,
      issues: inner.issues.map((i) => ({ ...i, path: i.path.replace(/^config/, "config.node.config") })),
    };
  }
  // A sub-workflow per item is the map's own workflow form: stored as that, it runs as a child run per item.
  if (node.type === "sub_workflow") {
    const { node: _node, ...rest } = config;
    return { ok: true, config: { ...rest, ...inner.config } };
  }
  return { ok: true, config: { ...config, node: { type: node.type, config: inner.config } } };
}
