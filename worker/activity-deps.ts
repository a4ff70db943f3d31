/** The activities' clients, built once from the worker's parsed configuration (worker/run.ts, bench/). */
import type { ActivityDeps } from "../activities/index.ts";
import { createNamedConnections } from "../activities/db/connections.ts";
import { createTenantSandboxes } from "../activities/db/tenant-sandbox.ts";
import type { ExpressionPool } from "../activities/expressions/pool.ts";
import { egressPolicyFor } from "../activities/http/control-plane.ts";
import { modelConfig } from "../activities/models/config.ts";
import { ModelRegistry } from "../activities/models/registry.ts";
import { createSecretResolver } from "../activities/secrets.ts";
import { vectorConfig } from "../activities/vector/config.ts";
import { VectorStore } from "../activities/vector/store.ts";
import type { Sql } from "../db/client.ts";
import { sandboxUrlFor } from "../db/sandbox.ts";
import type { WorkerConfig } from "./config.ts";

export type WorkerLog = (msg: string, fields?: Record<string, unknown>) => void;

export function activityDeps(
  sql: Sql,
  config: WorkerConfig,
  { expressions, log }: { expressions: ExpressionPool; log: WorkerLog },
): ActivityDeps {
  const egress = egressPolicyFor(config);
  return {
    sql,
    egress,
    sandboxes: createTenantSandboxes(
      config.WEFT_SANDBOX_DATABASE_URL ?? sandboxUrlFor(config.DATABASE_URL),
      config.WEFT_SECRETS_KEY,
    ),
    connections: createNamedConnections(config.WEFT_DB_CONNECTIONS, egress),
    secrets: createSecretResolver(sql, config),
    expressions,
    // Nothing loads until first used: a CPU-only worker never touches either.
    models: new ModelRegistry(modelConfig(config), log),
    vectors: new VectorStore(sql, vectorConfig(config), log),
    retentionDays: config.WEFT_RUN_RETENTION_DAYS,
  };
}
