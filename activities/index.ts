/**
 * The activity factory: the worker builds the clients from its parsed configuration (worker/activity-deps.ts) and
 * injects them; tests may inject others.
 */
import type { WorkflowActivities } from "../core/contract.ts";
import type { Sql } from "../db/client.ts";
import type { DbTargets } from "./db/index.ts";
import type { TenantSandboxes } from "./db/tenant-sandbox.ts";
import { createExecuteNode, nodeAttemptDeps } from "./execute-node.ts";
import { createMapActivities } from "./map/index.ts";
import { createChildRuns } from "./runs/child-runs.ts";
import type { ExpressionPool } from "./expressions/pool.ts";
import { createGpuParts } from "./gpu.ts";
import type { EgressPolicy } from "./http/egress-policy.ts";
import type { ModelRegistry } from "./models/registry.ts";
import { createRunBookkeeping } from "./runs/bookkeeping.ts";
import { createConditionEvaluation } from "./runs/conditions.ts";
import { createRunGuard } from "./runs/run-guard.ts";
import { createRunScheduling } from "./runs/scheduling.ts";
import { createRetention } from "./runs/retention.ts";
import type { ResolveSecrets } from "./secrets.ts";
import type { VectorStore } from "./vector/store.ts";

export interface ActivityDeps {
  sql: Sql;
  /** Where nodes may connect: public addresses plus WEFT_EGRESS_ALLOW, never the control plane. */
  egress: EgressPolicy;
  /** The tenants' sandboxes for db_write. */
  sandboxes: TenantSandboxes;
  /** The operator's named databases for db_write (WEFT_DB_CONNECTIONS). */
  connections: DbTargets["named"];
  /** Decrypts the secrets a node's config names. */
  secrets: ResolveSecrets;
  /** Where conditions, transforms and templates are evaluated. */
  expressions: ExpressionPool;
  /** Models and vector indexes for llm_call, faiss_search and ingestion (loaded on first use). */
  models: ModelRegistry;
  vectors: VectorStore;
  /** Finished runs older than this many days are deleted by the retention schedule (WEFT_RUN_RETENTION_DAYS). */
  retentionDays: number;
  /** Test hooks, never set in production (test/fault-worker.ts). */
  faults?: { afterDbCommit?: DbTargets["afterCommit"] };
}

export function createActivities(
  { sql, egress, sandboxes, connections, secrets, expressions, models, vectors, retentionDays, faults }: ActivityDeps,
) {
  const gpuParts = createGpuParts({ sql, models, store: vectors });
  // One guard, so each run is looked up once per worker whichever activity asks first.
  const guard = createRunGuard(sql);
  const db: DbTargets = { sql, sandboxes, named: connections, afterCommit: faults?.afterDbCommit };
  const attempts = nodeAttemptDeps(sql, egress, db, gpuParts.handlers, expressions, secrets);
  return {
    ...createExecuteNode(attempts, guard),
    ...createMapActivities({ attempts, guard, expressions }),
    ...createChildRuns(sql, guard),
    ...gpuParts.activities,
    ...createRunBookkeeping(sql, guard),
    ...createRunScheduling({ sql }),
    ...createConditionEvaluation(sql, expressions, guard),
    ...createRetention(sql, retentionDays),
  };
}

export type Activities = ReturnType<typeof createActivities>;

/** Fails the type check when an activity the workflows call (core/contract.ts) is missing or differs here. */
export type ServesWorkflows = Serves<Activities>;
type Serves<T extends WorkflowActivities> = T;
