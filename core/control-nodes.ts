/**
 * The control-flow node kinds — `map`, `sub_workflow`, `delay`, `wait_for_event` — as the API stores them: their
 * config schemas and the checks a save makes beyond the schema. The workflow runs them itself (workflows/nodes/),
 * so they have no activity handler; their bundle-safe facts (what they read) are in core/node-kinds.ts.
 */
import { z } from "zod";
import {
  DEFAULT_MAX_SUB_WORKFLOW_DEPTH,
  EVENT_NAME_PATTERN,
  MAP_WAIT_ITEM_TYPES,
  MAX_MAP_WAIT_ITEMS,
} from "./node-kinds.ts";

// Defined with the facts the workflow bundle reads, which must not import zod (lint/workflow-bundle.test.ts).
export { DEFAULT_MAX_SUB_WORKFLOW_DEPTH, EVENT_NAME_PATTERN, MAP_WAIT_ITEM_TYPES, MAX_MAP_WAIT_ITEMS };

/** Node types a map may not run per item: an approval per item, or a map in a map (nest through a sub-workflow). */
export const MAP_EXCLUDED_ITEM_TYPES: readonly string[] = ["approval", "map"];
export const MAX_MAP_CONCURRENCY = 256;
const YEAR_MS = 366 * 86_400_000;

const workflowId = z.string().uuid({ message: "must be the id of a workflow of the same workspace" });
const version = z.union([z.literal("latest"), z.number().int().min(1)]).default("latest");

/** Runs another workflow as a child run; its output is this node's output. */
export const subWorkflowConfigSchema = z.object({
  workflow_id: workflowId,
  version,
  /** The child run's input: templates over this run's context. */
  input: z.record(z.string(), z.unknown()).default({}),
}).strict();

const onlyOne = (config: { duration_ms?: unknown; until?: unknown }, ctx: z.RefinementCtx) => {
  if ((config.duration_ms === undefined) === (config.until === undefined)) {
    ctx.addIssue({ code: "custom", message: "give exactly one of duration_ms or until", path: [] });
  }
};
const until = z.string().min(1).max(2000).superRefine((value, ctx) => {
  if (!value.includes("{{") && Number.isNaN(Date.parse(value))) {
    ctx.addIssue({ code: "custom", message: "must be an ISO 8601 time (2026-12-24T18:00:00Z) or a template" });
  }
});
const durationMs = z.number().int().min(0).max(YEAR_MS);
/** A whole-value template (`"{{item.wait_ms}}"`): what a map's per-item node may give instead of a number. */
const wholeTemplate = z.string().regex(/^\{\{[^{}]+\}\}$/, { message: "must be a number or one whole template" });

/** A durable timer: a fixed wait, or until a time (ISO 8601, or a template that renders to one). */
export const delayConfigSchema = z.object({ duration_ms: durationMs.optional(), until: until.optional() }).strict()
  .superRefine(onlyOne);

/** A map's per-item delay: as a delay, and duration_ms may be a template over the item. */
export const mapItemDelayConfigSchema = z.object({
  duration_ms: z.union([durationMs, wholeTemplate]).optional(),
  until: until.optional(),
}).strict().superRefine(onlyOne);

/** Waits for an event sent to the run through the API (`POST …/runs/{run_id}/signals/{event}`). */
export const waitForEventConfigSchema = z.object({
  event: z.string().regex(EVENT_NAME_PATTERN, { message: "event names are 1 to 64 of A-Z a-z 0-9 _ . -" }),
  timeout_ms: z.number().int().min(1).max(YEAR_MS).optional(),
  on_timeout: z.enum(["fail", "continue"]).default("fail"),
}).strict();

/** A map's per-item wait_for_event: the event name may hold templates over the item (`ticket.{{item.id}}`). */
export const mapItemWaitForEventConfigSchema = waitForEventConfigSchema.extend({
  event: z.string().max(2000).regex(/^(?:[A-Za-z0-9_.-]|\{\{[^{}]+\}\})+$/, {
    message: "event names are 1 to 64 of A-Z a-z 0-9 _ . - (templates over the item allowed)",
  }),
}).strict();

const LITERAL_RANGE = /^\s*\[\s*(\d+)\s*\.\.\s*(\d+)\s*\]\s*$/;

/**
 * Runs one node, or one sub-workflow run, per item of an array. `items` is a whole-value template or a JSONata
 * expression; the per-item node reads `item` and `index` beside `input` and `nodes`.
 */
export const mapConfigSchema = z.object({
  items: z.string().min(1).max(20_000),
  node: z.object({ type: z.string(), config: z.record(z.string(), z.unknown()).default({}) }).strict().optional(),
  workflow_id: workflowId.optional(),
  version: z.union([z.literal("latest"), z.number().int().min(1)]).optional(),
  /** With workflow_id: each child run's input; `{{item}}` (the item itself, which must be an object) by default. */
  input: z.union([z.record(z.string(), z.unknown()), z.string()]).optional(),
  concurrency: z.number().int().min(1).max(MAX_MAP_CONCURRENCY).default(8),
  on_item_failure: z.enum(["fail", "continue"]).default("fail"),
}).strict().superRefine((config, ctx) => {
  if ((config.node === undefined) === (config.workflow_id === undefined)) {
    ctx.addIssue({ code: "custom", message: "give exactly one of node ({type, config}) or workflow_id", path: [] });
  }
  if (config.node && MAP_EXCLUDED_ITEM_TYPES.includes(config.node.type)) {
    ctx.addIssue({
      code: "custom",
      message: `a map cannot run ${config.node.type} per item (nest it in a sub-workflow and map over that)`,
      path: ["node", "type"],
    });
  }
  const range = config.node && MAP_WAIT_ITEM_TYPES.includes(config.node.type) && LITERAL_RANGE.exec(config.items);
  if (range && Number(range[2]) - Number(range[1]) + 1 > MAX_MAP_WAIT_ITEMS) {
    // Only a literal range is counted here; any other list is counted when the run evaluates it.
    ctx.addIssue({
      code: "custom",
      message: `a map of ${config.node!.type} takes at most ${MAX_MAP_WAIT_ITEMS} items`,
      path: ["items"],
    });
  }
  if (config.node && (config.version !== undefined || config.input !== undefined)) {
    ctx.addIssue({ code: "custom", message: "version and input go with workflow_id, not node", path: [] });
  }
});

export type MapConfig = z.infer<typeof mapConfigSchema>;
export type SubWorkflowConfig = z.infer<typeof subWorkflowConfigSchema>;
export type DelayConfig = z.infer<typeof delayConfigSchema>;
export type WaitForEventConfig = z.infer<typeof waitForEventConfigSchema>;

/** `items` is a whole-value template when it holds `{{`, otherwise a JSONata expression. */
export function itemsIsTemplate(items: string): boolean {
  return items.includes("{{");
}

const WHOLE_TEMPLATE = /^\s*\{\{[\s\S]*\}\}\s*$/;

/** Why a map's `items` cannot resolve to an array as written, or null. */
export function itemsProblem(items: string): string | null {
  if (itemsIsTemplate(items) && (!WHOLE_TEMPLATE.test(items) || items.indexOf("{{", 2) >= 0)) {
    return 'must be one whole template ("{{nodes.fetch.output.body.list}}") or a JSONata expression';
  }
  return null;
}

/** The workflows a node of this config runs as children (sub_workflow, map over a workflow), for save checks. */
export function childWorkflowIds(type: string, config: Record<string, unknown>): string[] {
  if ((type === "sub_workflow" || type === "map") && typeof config.workflow_id === "string") {
    return [config.workflow_id];
  }
  return [];
}
