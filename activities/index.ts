/** The activity factory: the worker injects real clients, tests may inject others. */
import type { Sql } from "../db/client.ts";
import { createExecuteNode } from "./execute-node.ts";
import { type EgressPolicy, egressPolicyFromEnv } from "./http/egress-policy.ts";
import { createRunBookkeeping } from "./runs/bookkeeping.ts";
import { createConditionEvaluation } from "./runs/conditions.ts";
import { createRunScheduling } from "./runs/scheduling.ts";

export interface ActivityDeps {
  sql: Sql;
  /** Where http_request nodes may go; by default public addresses plus WEFT_EGRESS_ALLOW. */
  egress?: EgressPolicy;
}

export function createActivities({ sql, egress = egressPolicyFromEnv(process.env) }: ActivityDeps) {
  return {
    executeNode: createExecuteNode(sql, egress),
    ...createRunBookkeeping(sql),
    ...createRunScheduling({ sql }),
    ...createConditionEvaluation(sql),
  };
}

export type Activities = ReturnType<typeof createActivities>;
