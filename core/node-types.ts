/** The node types Weft knows, each with the zod schema its stored config must satisfy. */
import { z } from "zod";
import { referencedNodes } from "./template.ts";

/** Keys every node type accepts: per-node timeout and retry policy. */
export const retryPolicySchema = z.object({
  max_attempts: z.number().int().min(1).max(100).optional(),
  initial_interval_ms: z.number().int().min(1).max(3_600_000).optional(),
  backoff_coefficient: z.number().min(1).max(100).optional(),
  max_interval_ms: z.number().int().min(1).max(86_400_000).optional(),
  non_retryable_error_codes: z.array(z.string()).optional(),
}).strict();

const commonConfig = {
  timeout_ms: z.number().int().min(1).max(86_400_000).optional(),
  retry: retryPolicySchema.optional(),
};

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

export interface ApprovalDecision {
  node_name: string;
  approved: boolean;
  data?: unknown;
  decided_by?: string | null;
}

export const nodeTypes = {
  http_request: { schema: httpRequestConfigSchema, queue: "cpu", expressionFields: [] as string[] },
  transform: { schema: transformConfigSchema, queue: "cpu", expressionFields: ["expression"] },
  approval: { schema: approvalConfigSchema, queue: "cpu", expressionFields: [] as string[] },
} as const;

export type NodeType = keyof typeof nodeTypes;
export const KNOWN_NODE_TYPES = Object.keys(nodeTypes) as NodeType[];

export function isNodeType(type: string): type is NodeType {
  return Object.hasOwn(nodeTypes, type);
}

export interface ConfigIssue {
  path: string;
  message: string;
}

/** Validates a node's stored config (templates not yet rendered) for its type. */
export function parseNodeConfig(
  type: NodeType,
  config: unknown,
): { ok: true; config: Record<string, unknown> } | { ok: false; issues: ConfigIssue[] } {
  const result = nodeTypes[type].schema.safeParse(config ?? {});
  if (result.success) return { ok: true, config: result.data as Record<string, unknown> };
  return {
    ok: false,
    issues: result.error.issues.map((i) => ({ path: ["config", ...i.path].join("."), message: i.message })),
  };
}

export const NODE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** The node names a node reads as `nodes.<name>`, in templates and in its type's expression fields. */
export function nodeReferences(type: string, config: Record<string, unknown>): Set<string> | "all" {
  const expressionFields: readonly string[] = isNodeType(type) ? nodeTypes[type].expressionFields : [];
  const names = new Set<string>();
  for (const [key, value] of Object.entries(config)) {
    const found = referencedNodes(value, expressionFields.includes(key));
    if (found === "all") return "all";
    for (const name of found) names.add(name);
  }
  return names;
}
