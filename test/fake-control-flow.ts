/**
 * Fake activities for the control-flow nodes (workflows/nodes/): child runs of registered snapshots, error runs,
 * and map items kept in memory, each item running the map node's behaviour with `item` and `index` in its
 * context. Used through test/fake-activities.ts.
 */
import type { MapConfig } from "../core/control-nodes.ts";
import type { MapCounts, WorkflowActivities, WorkflowSnapshot } from "../core/contract.ts";
import { evaluateExpression, renderTemplate } from "../core/template.ts";

/** Snapshots a child run of each workflow id gets (tests register them). */
export const childWorkflows = new Map<string, WorkflowSnapshot>();
/** The workflow a failed run's error run runs, by the failed run's snapshot workflow id. */
export const errorWorkflows = new Map<string, string>();

export const CONTROL_FLOW_ACTIVITIES: (keyof WorkflowActivities)[] = [
  "createChildRun",
  "createErrorRun",
  "recordControlStarted",
  "recordControlFinished",
  "renderNodeInput",
  "prepareMap",
  "executeMapItems",
  "mapItemInput",
  "finishMap",
  "mapItemConfigs",
  "recordMapItems",
];

interface ControlRecord {
  controls: { node: string; status: string; input?: unknown; output?: unknown; error?: unknown }[];
  children: { trigger: string; workflowId: string; input: unknown; runId: string }[];
  mapChunks: { from: number; to: number }[];
  /** Item records of maps the workflow runs itself (delay, wait_for_event per item), call by call. */
  mapItemRecords: { index: number; status: string }[][];
}

type ItemBehaviour = (ctx: { item: unknown; index: number }) => unknown;

export function controlFlowFakes(
  record: ControlRecord,
  behaviours: Record<string, unknown>,
): Partial<WorkflowActivities> {
  const maps = new Map<string, { items: unknown[]; outcomes: ({ ok: unknown } | { error: string } | null)[] }>();
  const mapOf = (runId: string, nodeId: string) => maps.get(`${runId}/${nodeId}`)!;
  const counts = (m: { outcomes: unknown[] }): MapCounts => ({
    total: m.outcomes.length,
    succeeded: m.outcomes.filter((o) => o && "ok" in (o as object)).length,
    failed: m.outcomes.filter((o) => o && "error" in (o as object)).length,
  });
  const created = (runId: string, workflowId: string, input: Record<string, unknown>) => {
    const snapshot = childWorkflows.get(workflowId);
    if (!snapshot) throw new Error(`no child workflow ${workflowId} registered`);
    return { runId, ownerId: "owner", snapshot, input };
  };

  return {
    createChildRun: (req) => {
      record.children.push({ trigger: req.trigger, workflowId: req.workflowId, input: req.input, runId: req.runId });
      return Promise.resolve(created(req.runId, req.workflowId, req.input));
    },
    createErrorRun: (req) => {
      const target = errorWorkflows.get(req.failedRunId);
      if (!target) return Promise.resolve(null);
      const input = { run_id: req.failedRunId, failed_node: req.failure.node, error: { message: req.failure.message } };
      record.children.push({ trigger: "error", workflowId: target, input, runId: req.runId });
      return Promise.resolve(created(req.runId, target, input));
    },
    recordControlStarted: (r) => {
      record.controls.push({ node: r.node_name, status: r.status, input: r.input });
      return Promise.resolve();
    },
    recordControlFinished: (r) => {
      const entry = record.controls.findLast((c) => `id-${c.node}` === r.node_id);
      if (entry) Object.assign(entry, { status: r.status, output: r.output, error: r.error ?? undefined });
      return Promise.resolve();
    },
    renderNodeInput: async ({ value, context }) => (await renderTemplate(value, context)) as Record<string, unknown>,
    prepareMap: async ({ runId, node, context }) => {
      const config = node.config as MapConfig;
      const items = config.items.includes("{{")
        ? await renderTemplate(config.items, context)
        : await evaluateExpression(config.items, context);
      if (!Array.isArray(items)) throw new Error("items is not an array");
      const key = `${runId}/${node.id}`;
      if (!maps.has(key)) maps.set(key, { items, outcomes: items.map(() => null) });
      const result = counts(mapOf(runId, node.id));
      return config.workflow_id ? { ...result, pending: items.map((_, i) => i) } : result;
    },
    executeMapItems: async ({ runId, node, from, to }) => {
      record.mapChunks.push({ from, to });
      const m = mapOf(runId, node.id);
      const behaviour = behaviours[node.name] as ItemBehaviour;
      for (let index = from; index < to; index++) {
        try {
          m.outcomes[index] = { ok: await behaviour({ item: m.items[index], index }) };
        } catch (err) {
          m.outcomes[index] = { error: (err as Error).message };
          if ((node.config as MapConfig).on_item_failure !== "continue") break;
        }
      }
      return counts(m);
    },
    mapItemInput: ({ runId, node, index }) => {
      const item = mapOf(runId, node.id).items[index];
      return Promise.resolve({ item, index });
    },
    mapItemConfigs: ({ runId, node, context }) => {
      const m = mapOf(runId, node.id);
      const value = (node.config as MapConfig).node!.config;
      return Promise.all(m.items.flatMap((item, index) => {
        const done = m.outcomes[index];
        if (done && "ok" in done) return [];
        return [(async () => {
          try {
            const config = await renderTemplate(value, { ...context, item, index });
            return { index, config: config as Record<string, unknown> };
          } catch (err) {
            return { index, error: (err as Error).message };
          }
        })()];
      }));
    },
    recordMapItems: ({ runId, node, items }) => {
      record.mapItemRecords.push(items.map((i) => ({ index: i.index, status: i.status })));
      const m = mapOf(runId, node.id);
      for (const i of items) {
        if (i.status === "succeeded") m.outcomes[i.index] = { ok: i.output };
        if (i.status === "failed") m.outcomes[i.index] = { error: i.error!.message };
      }
      return Promise.resolve();
    },
    finishMap: ({ runId, node }) => {
      const m = mapOf(runId, node.id);
      const output = {
        items: m.outcomes.map((o) => (o && "ok" in o ? o.ok : null)),
        failed: m.outcomes.flatMap((o, index) => (o && "error" in o ? [{ index, error: { message: o.error } }] : [])),
      };
      return Promise.resolve({ output, counts: counts(m) });
    },
  };
}
