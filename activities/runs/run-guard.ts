/**
 * The worker trusts nothing that arrives through Temporal: anyone who can reach Temporal can start `runDag` with
 * any arguments. An activity acts for a run only when the workflow executing it is the one Weft started for that
 * run (`weft-run-<runId>`, under any Temporal run id), the run exists, and what the workflow hands over (the run
 * input, each node's config, output references) is the run's own as PostgreSQL recorded it. Whether the run is
 * still live is checked in the same statements that write (db/node-executions.ts, bookkeeping, secrets), so a
 * finished run cannot be written to again.
 */
import { isDeepStrictEqual } from "node:util";
import { Context } from "@temporalio/activity";
import { LIVE_RUN_STATUSES, WORKFLOW_TYPES, workflowIds } from "../../core/contract.ts";
import { isOutputRef } from "../../core/output-ref.ts";
import type { SnapshotNode, WorkflowSnapshot } from "../../core/snapshot.ts";
import type { Sql } from "../../db/client.ts";
import { nonRetryable } from "../errors.ts";

export interface RunBinding {
  runId: string;
  /** The run's workspace: the tenant whose runs it may read. */
  workspaceId: string;
  input: unknown;
  nodes: Map<string, SnapshotNode>;
  /** The edge conditions of the run's graph. */
  conditions: Set<string>;
  /** Runs (this one, earlier runs of the same owner) whose outputs this run may read by reference. */
  readable: Set<string>;
}

const CACHE_LIMIT = 5_000;

export const refused = (why: string) =>
  nonRetryable("RunNotAuthorized", `this workflow may not act for the run: ${why}`);

/** The executing activity's workflow: type and id (the child's own id; Weft's children use Weft's id scheme). */
export function currentWorkflow(): { type: string; id: string; runId: string } {
  const info = Context.current().info;
  return {
    type: info.workflowType ?? "",
    id: info.workflowExecution?.workflowId ?? "",
    runId: info.workflowExecution?.runId ?? "",
  };
}

export function createRunGuard(sql: Sql) {
  // One lookup per run per worker: the run row's owner, input and snapshot never change after insert.
  const cache = new Map<string, Promise<RunBinding | null>>();

  const load = (runId: string) => {
    let hit = cache.get(runId);
    if (!hit) {
      hit = (async () => {
        const [row] = await sql`SELECT workspace_id, input, snapshot FROM workflow_runs WHERE id = ${runId}`;
        if (!row) return null;
        const snapshot = row.snapshot as WorkflowSnapshot;
        return {
          runId,
          workspaceId: row.workspace_id as string,
          input: row.input,
          nodes: new Map(snapshot.nodes.map((n) => [n.id, n])),
          conditions: new Set(snapshot.edges.flatMap((e) => (e.condition ? [e.condition] : []))),
          readable: new Set([runId]),
        };
      })();
      // A failed or empty lookup is not remembered: the next call asks again.
      hit.then((b) => b ?? cache.delete(runId), () => cache.delete(runId));
      if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
      cache.set(runId, hit);
    }
    return hit;
  };

  /** The run, when the current activity's workflow is its `runDag` (or a map batch of it); throws otherwise. */
  async function forRun(runId: unknown): Promise<RunBinding> {
    const wf = currentWorkflow();
    if (typeof runId !== "string" || !/^[0-9a-f-]{36}$/i.test(runId)) throw refused("not a run id");
    // A map's batches (workflows/map-batch.ts, weft-run-<run>-map-…) act for the map's run.
    const own = wf.type === WORKFLOW_TYPES.runDag && wf.id === workflowIds.run(runId);
    const batch = wf.type === WORKFLOW_TYPES.mapBatch && wf.id.startsWith(`${workflowIds.run(runId)}-map-`);
    if (!own && !batch) {
      throw refused(`workflow ${wf.type} ${wf.id} was not started by Weft for run ${runId}`);
    }
    const binding = await load(runId);
    if (!binding) throw refused(`run ${runId} does not exist`);
    return binding;
  }

  /** The node as the run's snapshot recorded it; a config the workflow changed is refused. */
  function checkNode(binding: RunBinding, node: SnapshotNode) {
    const recorded = binding.nodes.get(node?.id);
    if (
      !recorded || recorded.type !== node.type || recorded.name !== node.name ||
      !isDeepStrictEqual(recorded.config ?? null, node.config ?? null)
    ) {
      throw refused(`node ${node?.id} is not the run's node as recorded`);
    }
  }

  function checkInput(binding: RunBinding, input: unknown) {
    if (!isDeepStrictEqual(binding.input ?? null, input ?? null)) throw refused("the run input is not the run's own");
  }

  /** Output references may name only runs of the same owner (a retry reads its earlier run's outputs). */
  async function checkRefs(binding: RunBinding, nodes: Record<string, { output: unknown }> | undefined) {
    const runIds = new Set<string>();
    for (const n of Object.values(nodes ?? {})) {
      if (isOutputRef(n?.output)) runIds.add(String(n.output.$weft_ref.run_id));
    }
    const unknown = [...runIds].filter((id) => !binding.readable.has(id));
    if (!unknown.length) return;
    if (unknown.some((id) => !/^[0-9a-f-]{36}$/i.test(id))) throw refused("an output reference names no run");
    const rows = await sql`SELECT id FROM workflow_runs WHERE id IN ${
      sql(unknown)
    } AND workspace_id = ${binding.workspaceId}`;
    for (const r of rows) binding.readable.add(r.id as string);
    if (rows.length !== unknown.length) throw refused("an output reference names another tenant's run");
  }

  /** For reads that write nothing the liveness check is its own statement. */
  async function checkLive(binding: RunBinding) {
    const [row] = await sql`SELECT 1 FROM workflow_runs WHERE id = ${binding.runId}
      AND status IN ${sql(LIVE_RUN_STATUSES as unknown as string[])}`;
    if (!row) throw refused(`run ${binding.runId} has finished`);
  }

  /** A node activity's call (one node or a group): the run's own nodes, run input and output references. */
  async function forNodes(runId: string, nodes: SnapshotNode[], context: Record<string, unknown> | undefined) {
    const run = await forRun(runId);
    for (const node of nodes) checkNode(run, node);
    if (context?.run !== undefined && (context.run as { id?: unknown } | null)?.id !== runId) {
      throw refused("the context names another run");
    }
    checkInput(run, context?.input);
    await checkRefs(run, context?.nodes as Record<string, { output: unknown }> | undefined);
    return run;
  }

  /**
   * A read-only evaluation for a run (edge conditions, approval messages): a live run of Weft's, over that run's
   * own input and output references; `conditions`, when given, must all be edges of the run.
   */
  async function forReads(
    runId: unknown,
    input: unknown,
    nodes: Record<string, { output: unknown }> | undefined,
    conditions: string[] = [],
  ) {
    const run = await forRun(runId);
    if (conditions.some((c) => !run.conditions.has(c))) throw refused("a condition is not one of the run's edges");
    checkInput(run, input);
    await checkLive(run);
    await checkRefs(run, nodes);
    return run;
  }

  return { forRun, forNodes, forReads, checkNode, checkInput, checkRefs, checkLive };
}

export type RunGuard = ReturnType<typeof createRunGuard>;
