/** The activity factory: the worker injects real clients, tests may inject others. */
import { connect, type Sql } from "../db/client.ts";
import { sandboxUrlFor } from "../db/sandbox.ts";
import { createExecuteNode } from "./execute-node.ts";
import { ExpressionPool } from "./expressions/pool.ts";
import { createGpuParts, type GpuDeps } from "./gpu.ts";
import { type EgressPolicy, egressPolicyFromEnv } from "./http/egress-policy.ts";
import { createRunBookkeeping } from "./runs/bookkeeping.ts";
import { createConditionEvaluation } from "./runs/conditions.ts";
import { createRunScheduling } from "./runs/scheduling.ts";

export interface ActivityDeps {
  sql: Sql;
  /** Where http_request nodes may go; by default public addresses plus WEFT_EGRESS_ALLOW. */
  egress?: EgressPolicy;
  /** The database db_write nodes write to; by default WEFT_SANDBOX_DATABASE_URL or the derived sandbox. */
  sandbox?: () => Sql;
  /** Models and vector indexes for llm_call, faiss_search and ingestion; by default from MODEL_DIR and INDEX_DIR. */
  gpu?: Omit<GpuDeps, "sql">;
  /** Where conditions, transforms and templates are evaluated; by default a pool with the default bounds. */
  expressions?: ExpressionPool;
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
  {
    sql,
    egress = egressPolicyFromEnv(process.env),
    sandbox = lazySandbox(),
    gpu = {},
    expressions = new ExpressionPool(),
  }: ActivityDeps,
) {
  const gpuParts = createGpuParts({ sql, ...gpu });
  return {
    ...createExecuteNode(sql, egress, sandbox, gpuParts.handlers, expressions),
    ...gpuParts.activities,
    ...createRunBookkeeping(sql),
    ...createRunScheduling({ sql }),
    ...createConditionEvaluation(sql, expressions),
  };
}

export type Activities = ReturnType<typeof createActivities>;
