/**
 * A map node's activities (workflows/nodes/map.ts): evaluate its items into rows, run a chunk of them with the
 * map's concurrency (each item through its node's attempts and retries, recorded in its row), render a child
 * run's input for one item, and assemble the map's output from the rows.
 */
import { Context } from "@temporalio/activity";
import { setMaxListeners } from "node:events";
import type { MapConfig } from "../../core/control-nodes.ts";
import type { MapCounts, MapItemsRequest, MapRequest } from "../../core/contract.ts";
import { TemplateError } from "../../core/template.ts";
import { createMapItemLog, insertMapItems, reuseMapItems } from "../../db/map-items.ts";
import { resolveContext } from "../../db/output-refs.ts";
import { ATTEMPT_LOST } from "../../db/lost-attempts.ts";
import { nonRetryable } from "../errors.ts";
import type { ExpressionPool } from "../expressions/pool.ts";
import { type AttemptDeps, createAttemptRunner } from "../node-attempt.ts";
import { type LastAttempt, runMember } from "../node-group.ts";
import type { RunGuard } from "../runs/run-guard.ts";
import { finishMap } from "./finish.ts";
import { mapItemEvents } from "./item-events.ts";
import { createMapWaitActivities } from "./waits.ts";

/** More items than this in one map is refused: split the list, or map over sub-workflows that each take a part. */
export const MAX_MAP_ITEMS = 100_000;
const HEARTBEAT_EVERY_MS = 1000;

export interface MapActivityDeps {
  attempts: AttemptDeps;
  guard: RunGuard;
  expressions: ExpressionPool;
}

export function createMapActivities({ attempts, guard, expressions }: MapActivityDeps) {
  const { sql } = attempts;
  const itemLog = createMapItemLog(sql);

  /** The map's items over the node's context: a whole-value template or a JSONata expression. */
  async function evaluateItems(config: MapConfig, context: Record<string, unknown>): Promise<unknown[]> {
    let items: unknown;
    try {
      items = config.items.includes("{{")
        ? (await expressions.render({ items: config.items }, context) as { items: unknown }).items
        : await expressions.evaluate(config.items, context);
    } catch (err) {
      if (err instanceof TemplateError) throw nonRetryable("MapItemsInvalid", `items: ${err.message}`);
      throw err;
    }
    if (!Array.isArray(items)) {
      throw nonRetryable(
        "MapItemsInvalid",
        `items resolved to ${items === null ? "null" : typeof items}, not an array`,
      );
    }
    if (items.length > MAX_MAP_ITEMS) {
      throw nonRetryable("MapItemsInvalid", `${items.length} items: a map takes at most ${MAX_MAP_ITEMS}`);
    }
    return items;
  }

  async function counts(runId: string, nodeId: string): Promise<MapCounts> {
    const [row] = await sql`
      SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
             count(*) FILTER (WHERE status = 'failed')::int AS failed
      FROM map_items WHERE run_id = ${runId} AND node_id = ${nodeId}`;
    return row as unknown as MapCounts;
  }

  /** Items [from, to) with the context each reads: the node's, plus `item` and `index`. */
  async function itemsToRun(r: MapItemsRequest) {
    // Rows still running were lost with an earlier attempt of this activity: they go on from their next attempt.
    return await sql`
      SELECT index, item, status, attempts FROM map_items
      WHERE run_id = ${r.runId} AND node_id = ${r.node.id} AND index >= ${r.from} AND index < ${r.to}
        AND status IN ('pending', 'running') ORDER BY index`;
  }

  return {
    async prepareMap(r: MapRequest): Promise<MapCounts> {
      const run = await guard.forNodes(r.runId, [r.node], r.context);
      const config = r.node.config as MapConfig;
      const [{ n }] = await sql`SELECT count(*)::int AS n FROM map_items WHERE run_id = ${r.runId}
                                 AND node_id = ${r.node.id}`;
      if (n === 0) {
        const items = await evaluateItems(config, await resolveContext(sql, r.context));
        const [row] = await sql`SELECT retry_of FROM workflow_runs WHERE id = ${run.runId}`;
        // One transaction: a retried attempt finds every row or none.
        await sql.begin(async (tx) => {
          await insertMapItems(tx as unknown as typeof sql, r.runId, r.node.id, items);
          if (row?.retry_of) {
            await reuseMapItems(tx as unknown as typeof sql, r.runId, row.retry_of as string, r.node.id);
          }
        });
      }
      const result = await counts(r.runId, r.node.id);
      if (config.workflow_id) {
        const pending = await sql`SELECT index FROM map_items WHERE run_id = ${r.runId} AND node_id = ${r.node.id}
                                   AND status <> 'succeeded' ORDER BY index`;
        result.pending = pending.map((p) => Number(p.index));
      }
      return result;
    },

    async executeMapItems(r: MapItemsRequest): Promise<MapCounts> {
      await guard.forNodes(r.runId, [r.node], r.context);
      const ctx = Context.current();
      const config = r.node.config as MapConfig;
      const node = { id: r.node.id, name: r.node.name, type: config.node!.type, config: config.node!.config };
      const context = await resolveContext(sql, r.context);
      const rows = await itemsToRun(r);
      const done = { succeeded: 0, failed: 0 };
      const stop = new AbortController();
      const signal = AbortSignal.any([ctx.cancellationSignal, stop.signal]);
      // Each running item listens to it (its deadline, its backoff): `concurrency` listeners are expected.
      setMaxListeners(4 * config.concurrency + 10, signal);
      const heartbeat = setInterval(() => ctx.heartbeat(done), HEARTBEAT_EVERY_MS);
      const events = mapItemEvents(sql, r.runId, r.node.name);
      let next = 0;
      const worker = async () => {
        while (next < rows.length && !signal.aborted) {
          const row = rows[next++];
          const index = Number(row.index);
          const runAttempt = createAttemptRunner({ ...attempts, log: itemLog(r.node.id, index) });
          const last: LastAttempt | undefined = row.status === "running"
            ? { attempt: Number(row.attempts), status: "failed", output: null, error: ATTEMPT_LOST }
            : undefined;
          const itemContext = { ...context, item: row.item, index };
          const outcome = await runMember(runAttempt, r.runId, node, itemContext, last, signal);
          events.push({
            index,
            status: outcome.status,
            ...(outcome.status === "failed" ? { error: outcome.error.message } : {}),
          });
          if (outcome.status === "succeeded") done.succeeded++;
          if (outcome.status === "failed") {
            done.failed++;
            if (config.on_item_failure !== "continue") stop.abort(new Error(`item ${index} failed`));
          }
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.min(config.concurrency, rows.length) }, worker));
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        // Items an item's failure stopped before they ran stay pending; those it interrupted are cancelled.
        return await counts(r.runId, r.node.id);
      } finally {
        clearInterval(heartbeat);
        await events.close();
      }
    },

    async mapItemInput(r: MapRequest & { index: number }): Promise<Record<string, unknown>> {
      await guard.forNodes(r.runId, [r.node], r.context);
      const [row] = await sql`SELECT item FROM map_items WHERE run_id = ${r.runId} AND node_id = ${r.node.id}
                               AND index = ${r.index}`;
      if (!row) throw nonRetryable("MapItemsInvalid", `item ${r.index} does not exist`);
      const template = (r.node.config as MapConfig).input ?? "{{item}}";
      const context = { ...(await resolveContext(sql, r.context)), item: row.item, index: r.index };
      const input = (await expressions.render({ input: template }, context) as { input: unknown }).input;
      if (!input || typeof input !== "object" || Array.isArray(input)) {
        throw nonRetryable("MapItemsInvalid", `item ${r.index}: a child run's input must be an object`);
      }
      return input as Record<string, unknown>;
    },

    finishMap: (r: MapRequest) => finishMap(sql, guard, r),
    ...createMapWaitActivities(sql, guard, expressions),
  };
}
