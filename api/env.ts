/** Hono's typed per-request variables and the services every handler receives. */
import type { PayloadCodec } from "@temporalio/common";
import type { Sql } from "../db/client.ts";
import type { ApiConfig } from "./config.ts";
import type { Logger } from "./logger.ts";
import type { TemporalApi } from "./temporal/client.ts";
import type { WorkflowCache } from "./workflows/cache.ts";
import type { ApiMetrics } from "./metrics.ts";

export interface Services {
  config: ApiConfig;
  sql: Sql;
  /** Temporal as the handlers use it (over its HTTP API in the API process). */
  temporal: TemporalApi;
  logger: Logger;
  /** The payload codec the API's Temporal calls use; served to the Temporal UI as a codec server. */
  codec?: PayloadCodec;
  /** Cached workflow definitions for reads; absent when WEFT_READ_CACHE=false. */
  workflowCache?: WorkflowCache;
  /** Prometheus metrics (api/metrics.ts); absent in tests that do not look at them. */
  metrics?: ApiMetrics;
}

export interface AuthUser {
  id: string;
  email: string;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    logger: Logger;
    services: Services;
    user: AuthUser;
  };
}
