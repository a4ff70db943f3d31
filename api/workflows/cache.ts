/**
 * An in-process cache of serialized workflow definitions (workflow + nodes + edges) for the hot read path.
 * Entries are dropped locally on every write this process makes, and on PostgreSQL NOTIFY from a trigger
 * for writes made anywhere else; a short TTL bounds staleness should a notification ever be missed.
 */
import type { Sql } from "../../db/client.ts";
import type { Logger } from "../logger.ts";

export const WORKFLOW_CHANGED_CHANNEL = "weft_workflow_changed";

interface Entry {
  /** The workspace the workflow belongs to: a read from any other workspace is a 404. */
  workspaceId: string;
  json: string;
  storedAt: number;
}

export class WorkflowCache {
  private readonly entries = new Map<string, Entry>();
  /** Invalidation counter: a read that began before an invalidation of its key must not be stored. */
  private counter = 0;
  private floor = 0;
  private readonly invalidatedAt = new Map<string, number>();

  constructor(private readonly ttlMs = 30_000, private readonly maxEntries = 10_000) {}

  /** Serves nothing until the change listener is connected. */
  private active = false;

  get(id: string): Entry | undefined {
    if (!this.active) return undefined;
    const entry = this.entries.get(id);
    if (entry && Date.now() - entry.storedAt > this.ttlMs) {
      this.entries.delete(id);
      return undefined;
    }
    return entry;
  }

  /** Call before reading from the database; pass the result to `set`. */
  readStarted(): number {
    return this.counter;
  }

  set(id: string, workspaceId: string, json: string, readStartedAt: number) {
    if (!this.active || readStartedAt < this.floor || (this.invalidatedAt.get(id) ?? -1) > readStartedAt) return;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(id, { workspaceId, json, storedAt: Date.now() });
  }

  invalidate(id: string) {
    this.counter++;
    this.entries.delete(id);
    this.invalidatedAt.set(id, this.counter);
    if (this.invalidatedAt.size > this.maxEntries) this.clear();
  }

  clear() {
    this.counter++;
    this.floor = this.counter;
    this.entries.clear();
    this.invalidatedAt.clear();
  }

  /** Subscribes to change notifications; the cache is cleared on every (re)connect of the listener. */
  async listen(sql: Sql, logger: Logger) {
    try {
      await sql.listen(WORKFLOW_CHANGED_CHANNEL, (id) => this.invalidate(id), () => {
        this.clear();
        this.active = true;
      });
    } catch (err) {
      this.active = false;
      logger.error("workflow cache listener failed; reads go to PostgreSQL", { error: (err as Error).message });
    }
  }
}
