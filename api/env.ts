/** Hono's typed per-request variables and the services every handler receives. */
import type { Client } from "@temporalio/client";
import type { Sql } from "../db/client.ts";
import type { ApiConfig } from "./config.ts";
import type { Logger } from "./logger.ts";

export interface Services {
  config: ApiConfig;
  sql: Sql;
  temporal: Client;
  logger: Logger;
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
