/** Runs one node of a run: render its config, record the attempt, dispatch by type, record the result. */
import { Context } from "@temporalio/activity";
import type { SnapshotNode } from "../core/snapshot.ts";
import { renderTemplate, TemplateError } from "../core/template.ts";
import type { Sql } from "../db/client.ts";
import { describeError, nonRetryable } from "./errors.ts";
import { httpRequest } from "./http/index.ts";

export interface ExecuteNodeInput {
  runId: string;
  node: SnapshotNode;
  /** `input` (the run input), `nodes.<name>.output` for every upstream node, `run.id`. */
  context: Record<string, unknown>;
}

type Handler = (rendered: Record<string, unknown>, signal: AbortSignal) => Promise<unknown>;

const handlers: Record<string, Handler> = {
  http_request: httpRequest,
};

export function createExecuteNode(sql: Sql) {
  return async function executeNode({ runId, node, context }: ExecuteNodeInput): Promise<unknown> {
    const ctx = Context.current();
    const attempt = ctx.info.attempt;
    const started = performance.now();
    let rendered: Record<string, unknown> | null = null;
    let renderError: unknown = null;
    try {
      rendered = (await renderTemplate(node.config, context)) as Record<string, unknown>;
    } catch (err) {
      renderError = err instanceof TemplateError ? nonRetryable("TemplateError", err.message) : err;
    }
    // Earlier attempts still marked running died with their worker or timed out.
    await sql`UPDATE node_executions SET status = 'failed', finished_at = now(),
                error = ${
      sql.json({
        message: "attempt abandoned: the worker stopped or the attempt timed out",
        type: "AttemptLost",
        retryable: true,
      })
    }
              WHERE run_id = ${runId} AND node_id = ${node.id} AND status = 'running' AND attempt < ${attempt}`;
    const [row] = await sql`
      INSERT INTO node_executions (run_id, node_id, node_name, type, status, attempt, input)
      VALUES (${runId}, ${node.id}, ${node.name}, ${node.type}, 'running', ${attempt}, ${
      rendered ? sql.json(rendered as never) : null
    })
      ON CONFLICT (run_id, node_id, attempt) DO UPDATE SET status = 'running', started_at = now(), input = excluded.input
      RETURNING id`;
    const finish = async (status: string, output: unknown, error: unknown) => {
      await sql`UPDATE node_executions SET status = ${status}, finished_at = now(),
                  output = ${output === undefined ? null : sql.json(output as never)},
                  error = ${error ? sql.json(error as never) : null},
                  duration_ms = ${Math.round(performance.now() - started)}
                WHERE id = ${row.id as number}`;
    };
    try {
      if (renderError) throw renderError;
      const handler = handlers[node.type];
      if (!handler) throw nonRetryable("UnknownNodeType", `this worker has no handler for node type "${node.type}"`);
      const output = await handler(rendered!, ctx.cancellationSignal);
      await finish("succeeded", output ?? null, null);
      return output ?? null;
    } catch (err) {
      await finish(ctx.cancellationSignal.aborted ? "cancelled" : "failed", undefined, describeError(err));
      throw err;
    }
  };
}
