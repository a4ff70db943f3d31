/** The activity factory: the worker injects real clients, tests may inject others. */
import { connect, type Sql } from "../db/client.ts";
import { sandboxUrlFor } from "../db/sandbox.ts";
import { createExecuteNode } from "./execute-node.ts";
import { createGpuParts, type GpuDeps } from "./gpu.ts";
import { type EgressPolicy, egressPolicyFromEnv } from "./http/egress-policy.ts";
import { createRunBookkeeping } from "./runs/bookkeeping.ts";
import { createConditionEvaluation } from "./runs/conditions.ts";
import { createRunGuard } from "./runs/run-guard.ts";
import { createRunScheduling } from "./runs/scheduling.ts";

export interface ActivityDeps {
  sql: Sql;
  /** Where http_request nodes may go; by default public addresses plus WEFT_EGRESS_ALLOW. */
  egress?: EgressPolicy;
  /** The database db_write nodes write to; by default WEFT_SANDBOX_DATABASE_URL or the derived sandbox. */
  sandbox?: () => Sql;
  /** Models and vector indexes for llm_call, faiss_search and ingestion; by default from MODEL_DIR and INDEX_DIR. */
  gpu?: Omit<GpuDeps, "sql">;
}

/** One pool per process for the sandbox database, opened on first use. */
function lazySandbox(): () => Sql {
  let pool: Sql | undefined;
  return () => {
    pool ??= connect(
      process.env.WEFT_SANDBOX_DATABASE_URL ??
        sandboxUrlFor(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/weft"),
      { max: 10 },
    );
    return pool;
  };
}

export function createActivities(
  { sql, egress = egressPolicyFromEnv(process.env), sandbox = lazySandbox(), gpu = {} }: ActivityDeps,
) {
  const gpuParts = createGpuParts({ sql, ...gpu });
  // One guard, so each run is looked up once per worker whichever activity asks first.
  const guard = createRunGuard(sql);
  return {
    ...createExecuteNode(sql, egress, sandbox, gpuParts.handlers, guard),
    ...gpuParts.activities,
    ...createRunBookkeeping(sql, guard),
    ...createRunScheduling({ sql }),
    ...createConditionEvaluation(sql, guard),
  };
}

export type Activities = ReturnType<typeof createActivities>;
