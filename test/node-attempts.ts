/**
 * Node attempts without PostgreSQL, for the node activities' unit tests: fake handlers, a fake attempt log and
 * secrets from a map, run in Temporal's mock activity environment.
 */
import { MockActivityEnvironment } from "@temporalio/testing";
import { DefaultLogger } from "@temporalio/worker";
import type { Sql } from "../db/client.ts";
import type { AttemptEnd, AttemptRecord, AttemptStart } from "../db/node-executions.ts";
import { createAttemptRunner } from "../activities/node-attempt.ts";
import { type Handler, renderConfig } from "../activities/node-handlers.ts";

/** The mock environment, without its log line for every failed activity. */
export const mockEnvironment = (info?: ConstructorParameters<typeof MockActivityEnvironment>[0]) =>
  new MockActivityEnvironment(info, { logger: new DefaultLogger("ERROR") });

/**
 * Records what the attempt log was told; `live: false` answers as for a run that has finished. `lean` adds the
 * one-row writes (`recorded`, and `live` reads) that node_executions has; without it attempts write two rows.
 */
export function fakeLog(live = true, lean = false) {
  const started: AttemptStart[] = [];
  const finished: Omit<AttemptEnd, "duration_ms">[] = [];
  const recorded: Omit<AttemptRecord, "duration_ms">[] = [];
  const liveReads: string[] = [];
  const log = {
    started: (a: AttemptStart) => Promise.resolve(live ? (started.push(a), started.length) : undefined),
    finished: ({ duration_ms: _, ...end }: AttemptEnd) => Promise.resolve(void finished.push(end)),
  };
  const leanLog = {
    ...log,
    recorded: ({ duration_ms: _, ...r }: AttemptRecord) => Promise.resolve(live && recorded.push(r) > 0),
    live: (runId: string) => Promise.resolve(liveReads.push(runId) > 0 && live),
  };
  return { started, finished, recorded, liveReads, log: lean ? leanLog : log };
}

/** A handler that renders templates with plain substitution and runs `run` on the result. */
export const handler = (run: Handler["run"], extra: Partial<Handler> = {}): Handler => ({
  prepare: renderConfig,
  run,
  ...extra,
});

const render = (config: Record<string, unknown>) => Promise.resolve(config);
export const noSql = (() => {
  throw new Error("no database in unit tests");
}) as unknown as Sql;

export function attemptRunner(
  handlers: Record<string, Handler>,
  secrets: Record<string, string> = {},
  live = true,
  lean = false,
) {
  const recorded = fakeLog(live, lean);
  const runAttempt = createAttemptRunner({
    sql: noSql,
    handlers,
    render,
    resolveSecrets: (_runId, names) => Promise.resolve(Object.fromEntries(names.map((n) => [n, secrets[n]]))),
    log: recorded.log,
  });
  return { runAttempt, ...recorded };
}
