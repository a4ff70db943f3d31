/** The activity factory: the worker injects real clients, tests may inject others. */
import type { WorkflowActivities } from "../core/contract.ts";
import type { Sql } from "../db/client.ts";
import { sandboxUrlFor } from "../db/sandbox.ts";
import { loadWorkerConfig, type WorkerConfig } from "../worker/config.ts";
import { createNamedConnections } from "./db/connections.ts";
import { createTenantSandboxes, type TenantSandboxes } from "./db/tenant-sandbox.ts";
import { createExecuteNode } from "./execute-node.ts";
import { ExpressionPool } from "./expressions/pool.ts";
import { createGpuParts, type GpuDeps } from "./gpu.ts";
import { egressPolicyFor } from "./http/control-plane.ts";
import type { EgressPolicy } from "./http/egress-policy.ts";
import { createRunBookkeeping } from "./runs/bookkeeping.ts";
import { createConditionEvaluation } from "./runs/conditions.ts";
import { createRunGuard } from "./runs/run-guard.ts";
import { createRunScheduling } from "./runs/scheduling.ts";
import { createRetention } from "./runs/retention.ts";

export interface ActivityDeps {
  sql: Sql;
  /** The worker's settings; by default parsed from the environment. */
  config?: WorkerConfig;
  /** Where nodes may connect; by default public addresses plus WEFT_EGRESS_ALLOW, never the control plane. */
  egress?: EgressPolicy;
  /** The tenants' sandboxes for db_write; by default in WEFT_SANDBOX_DATABASE_URL or the derived sandbox. */
  sandboxes?: TenantSandboxes;
  /** Models and vector indexes for llm_call, faiss_search and ingestion; by default from MODEL_DIR and INDEX_DIR. */
  gpu?: Omit<GpuDeps, "sql">;
  /** Finished runs older than this many days are deleted by the retention schedule (WEFT_RUN_RETENTION_DAYS). */
  retentionDays?: number;
  /** Where conditions, transforms and templates are evaluated; by default a pool with the default bounds. */
  expressions?: ExpressionPool;
}

export function createActivities(
  {
    sql,
    config = loadWorkerConfig(process.env),
    gpu = {},
    retentionDays = config.WEFT_RUN_RETENTION_DAYS,
    expressions = new ExpressionPool({
      timeoutMs: config.WEFT_EXPRESSION_TIMEOUT_MS,
      memoryMb: config.WEFT_EXPRESSION_MEMORY_MB,
      maxProcesses: config.WEFT_EXPRESSION_MAX_PROCESSES,
    }),
    ...deps
  }: ActivityDeps,
) {
  const egress = deps.egress ?? egressPolicyFor(config);
  const sandboxes = deps.sandboxes ?? createTenantSandboxes(
    config.WEFT_SANDBOX_DATABASE_URL ?? sandboxUrlFor(config.DATABASE_URL),
    config.WEFT_SECRETS_KEY,
  );
  const named = createNamedConnections(config.WEFT_DB_CONNECTIONS, egress);
  const gpuParts = createGpuParts({ sql, ...gpu });
  // One guard, so each run is looked up once per worker whichever activity asks first.
  const guard = createRunGuard(sql);
  return {
    ...createExecuteNode(sql, egress, { sql, sandboxes, named }, gpuParts.handlers, expressions, guard),
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
