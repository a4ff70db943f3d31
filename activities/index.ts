/** The activity factory: the worker injects real clients, tests may inject others. */
import type { Sql } from "../db/client.ts";
import { createExecuteNode } from "./execute-node.ts";
import { createRunBookkeeping } from "./runs/bookkeeping.ts";
import { createConditionEvaluation } from "./runs/conditions.ts";
import { createRunScheduling } from "./runs/scheduling.ts";

export interface ActivityDeps {
  sql: Sql;
}

export function createActivities({ sql }: ActivityDeps) {
  return {
    executeNode: createExecuteNode(sql),
    ...createRunBookkeeping(sql),
    ...createRunScheduling({ sql }),
    ...createConditionEvaluation(sql),
  };
}

export type Activities = ReturnType<typeof createActivities>;
