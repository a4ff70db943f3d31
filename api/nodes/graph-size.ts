/**
 * The save-time side of GRAPH_TOO_LARGE: a node is refused when the workflow's node configs alone would be
 * over the engine's input limit, since every run's snapshot carries them all (execute checks the exact size).
 */
import type { Sql } from "../../db/client.ts";
import { ApiError } from "../errors.ts";
import { nodeConfigBytes } from "./store.ts";

export async function assertGraphFits(
  sql: Sql,
  workflowId: string,
  config: unknown,
  maxBytes: number,
  replacingNodeId?: string,
): Promise<void> {
  const others = await nodeConfigBytes(sql, workflowId, replacingNodeId);
  const bytes = others + new TextEncoder().encode(JSON.stringify(config)).byteLength;
  if (bytes > maxBytes) {
    throw new ApiError(
      "GRAPH_TOO_LARGE",
      `the workflow's node configs would total ${bytes} bytes, and every run carries them all in its input, ` +
        `which the workflow engine accepts up to ${maxBytes} bytes; keep large data out of node configs`,
      { config_bytes: bytes, max_bytes: maxBytes },
    );
  }
}
