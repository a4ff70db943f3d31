/**
 * Streams an llm_call's text to its run's event stream as `token` events {node_name, attempt, seq, text}.
 * seq counts from 0 within each attempt and has no gaps; a retried attempt streams again under its own
 * attempt number, so a client keeps the text of the highest attempt it has seen for a node and drops the
 * rest. Writes never hold up generation: pending tokens go out in one transaction per flush.
 */
import type { Sql } from "../../db/client.ts";
import { appendRunEvent } from "../../db/run-events.ts";

export interface TokenStream {
  push(text: string): void;
  /** Waits for every token to be written; throws the first write error, if any. */
  close(): Promise<void>;
  readonly count: number;
}

export function tokenStream(sql: Sql, runId: string, nodeName: string, attempt: number): TokenStream {
  const pending: { seq: number; text: string }[] = [];
  let seq = 0;
  let writing: Promise<void> | null = null;
  let failure: unknown = null;

  const flush = async () => {
    while (pending.length && !failure) {
      const batch = pending.splice(0);
      try {
        await sql.begin(async (tx) => {
          for (const { seq, text } of batch) {
            await appendRunEvent(tx as unknown as Sql, runId, "token", { node_name: nodeName, attempt, seq, text });
          }
        });
      } catch (err) {
        failure = err;
      }
    }
    writing = null;
  };

  return {
    push(text: string) {
      if (!text) return;
      pending.push({ seq: seq++, text });
      writing ??= flush();
    },
    async close() {
      while (writing) await writing;
      if (failure) throw failure;
    },
    get count() {
      return seq;
    },
  };
}
