/**
 * Streams an llm_call's text to its run's event stream as `token` events {node_name, attempt, seq, text}, each
 * piece written as generation hands it over (at most every STREAM_INTERVAL_MS: a fast model is not slowed by
 * a database write per token). seq counts from 0 within each attempt with no gaps; a retried attempt streams
 * again under its own attempt number, so a client keeps the text of the highest attempt it has seen for a
 * node, in seq order, and drops the rest.
 */
import type { Sql } from "../../db/client.ts";
import { appendRunEvent } from "../../db/run-events.ts";

export const STREAM_INTERVAL_MS = 100;

export interface TokenStream {
  push(text: string): void;
  /** Waits for every write; throws the first write error, if any. */
  close(): Promise<void>;
}

export function tokenStream(sql: Sql, runId: string, nodeName: string, attempt: number): TokenStream {
  let seq = 0;
  let writing: Promise<void> = Promise.resolve();
  let failure: unknown = null;
  return {
    push(text: string) {
      if (!text || failure) return;
      const data = { node_name: nodeName, attempt, seq: seq++, text };
      // Chained, so events keep their seq order; generation never waits for them.
      writing = writing.then(() => appendRunEvent(sql, runId, "token", data)).then(() => {}, (err) => {
        failure ??= err;
      });
    },
    async close() {
      await writing;
      if (failure) throw failure;
    },
  };
}
