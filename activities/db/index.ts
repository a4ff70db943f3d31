/**
 * The `db_write` node: statements in one transaction against the run owner's sandbox schema (or an
 * operator-declared connection), with a statement
 * timeout and a row cap. Exactly-once under retries: an execution ledger row keyed by run and node is
 * written in the same transaction, so an attempt that committed and then died is not repeated — the next
 * attempt finds the ledger row and returns what was committed.
 */
import {
  connectionNameProblem,
  type DbStatement,
  dbWriteConfigSchema,
  SANDBOX_CONNECTION,
} from "../../core/node-types.ts";
import type { Sql } from "../../db/client.ts";
import { nonRetryable, retryable } from "../errors.ts";
import { EgressBlockedError } from "../http/egress-policy.ts";
import { checkRole } from "./connections.ts";
import type { TenantSandboxes } from "./tenant-sandbox.ts";
import { runStatement, type StatementResult } from "./statements.ts";

export interface DbWriteMeta {
  runId: string;
  nodeId: string;
  attempt: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** SQLSTATE classes that mean the statement itself is wrong (not worth a retry): 25 is "not in a transaction". */
const BAD_INPUT = /^(22|23|25|42|44|2F|0A)/;

/**
 * An operator's database gets the ledger table on first use, inside the node's transaction (after the role
 * check), serialised so that two workers creating it at once do not fail. The sandbox's is made with the tenant.
 */
async function ensureLedger(tx: Sql) {
  const [{ found }] = await tx`SELECT to_regclass('weft_execution_ledger') IS NOT NULL AS found`;
  if (found) return;
  await tx`SELECT pg_advisory_xact_lock(7725)`;
  await tx`CREATE TABLE IF NOT EXISTS weft_execution_ledger (
    key text PRIMARY KEY, output jsonb NOT NULL, committed_at timestamptz NOT NULL DEFAULT now())`;
}

function statementsOf(config: Record<string, unknown>): DbStatement[] {
  if (config.statements) return config.statements as DbStatement[];
  if (config.sql) return [{ sql: config.sql as string, params: (config.params as unknown[]) ?? [] }];
  const { operation, table, values, where, returning, columns, limit } = config;
  return [{ operation, table, values, where, returning, columns, limit } as DbStatement];
}

export interface DbTargets {
  /** Weft's own database: only to learn whose run this is. */
  sql: Sql;
  sandboxes: TenantSandboxes;
  /** An operator-declared connection by name (throws a non-retryable error for an undeclared one). */
  named: (name: string) => Sql;
  /**
   * A test hook, never set in production: called right after a node's transaction committed, before the
   * activity returns (the exactly-once test kills its worker there, test/fault-worker.ts).
   */
  afterCommit?: (meta: DbWriteMeta) => void;
}

/** Refuses a saved node whose connection is a URL or secret (the form named connections replaced). */
export function checkConnection(config: Record<string, unknown>) {
  if (config.connection === undefined) return;
  const problem = typeof config.connection === "string"
    ? connectionNameProblem(config.connection)
    : "connection must be a connection name";
  if (problem) throw nonRetryable("InvalidConfig", `config.connection: ${problem}`);
}

/** Where this run's statements go: the named database, or the run owner's own sandbox schema. */
async function target(targets: DbTargets, connection: unknown, runId: string) {
  if (typeof connection === "string" && connection !== SANDBOX_CONNECTION) {
    return { sql: targets.named(connection), ledger: "weft_execution_ledger", what: `connection "${connection}"` };
  }
  const [run] = await targets.sql`SELECT workspace_id FROM workflow_runs WHERE id = ${runId}`;
  if (!run) throw nonRetryable("RunNotFound", `run ${runId} does not exist`);
  // The tenant is the run's workspace: its members' workflows share one sandbox schema.
  const tenant = run.workspace_id as string;
  const { sql, schema } = await targets.sandboxes.forTenant(tenant);
  // Qualified: a search_path the tenant's own SQL changed must not move the ledger.
  return { sql, ledger: `"${schema}".weft_execution_ledger`, what: "the sandbox" };
}

/** An egress refusal while connecting is the node's fault, not a transient one. */
function rethrowRefusal(err: unknown): never {
  if (err instanceof EgressBlockedError) throw nonRetryable("EgressBlocked", err.message);
  throw err;
}

export function createDbWrite(targets: DbTargets) {
  return async function dbWrite(rendered: Record<string, unknown>, meta: DbWriteMeta): Promise<unknown> {
    checkConnection(rendered);
    const parsed = dbWriteConfigSchema.safeParse(rendered);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((i) => `${["config", ...i.path].join(".")}: ${i.message}`).join("; ");
      throw nonRetryable("InvalidConfig", `invalid db_write config after rendering templates: ${fields}`);
    }
    const config = parsed.data as Record<string, unknown> & { max_rows: number; timeout_ms?: number };
    const { sql, ledger, what } = await target(targets, config.connection, meta.runId);
    const key = `${meta.runId}:${meta.nodeId}`;
    let output: unknown;
    try {
      output = await sql.begin(async (tx) => {
        // Before any statement of the node: a role that could take over the server is refused.
        await checkRole(tx as unknown as Sql, what);
        if (ledger === "weft_execution_ledger") await ensureLedger(tx as unknown as Sql);
        await tx.unsafe(`SET LOCAL statement_timeout = ${Math.floor(config.timeout_ms ?? DEFAULT_TIMEOUT_MS)}`);
        // Serialise attempts of the same node; a committed earlier attempt wins.
        await tx`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 7723))`;
        const [done] = await tx.unsafe(`SELECT output FROM ${ledger} WHERE key = $1`, [key]);
        if (done) return { ...(done.output as Record<string, unknown>), replayed: true };
        const results: StatementResult[] = [];
        for (const statement of statementsOf(config)) {
          const result = await runStatement(tx, statement, config.max_rows);
          results.push({ ...result, rows: result.rows.slice(0, config.max_rows) });
          if (result.rows.length > config.max_rows) {
            (results.at(-1) as StatementResult & { truncated?: boolean }).truncated = true;
          }
        }
        const last = results.at(-1)!;
        const out = {
          rows: last.rows,
          row_count: results.reduce((n, r) => n + r.row_count, 0),
          ...(results.length > 1 ? { statements: results } : {}),
          ...((last as { truncated?: boolean }).truncated ? { truncated: true } : {}),
        };
        await tx.unsafe(`INSERT INTO ${ledger} (key, output) VALUES ($1, $2::jsonb)`, [key, JSON.stringify(out)]);
        return out;
      });
    } catch (err) {
      if (err instanceof EgressBlockedError) rethrowRefusal(err);
      const code = (err as { code?: string }).code;
      if (code && BAD_INPUT.test(code)) throw nonRetryable("DbError", `${(err as Error).message} (SQLSTATE ${code})`);
      if (code === "57014") {
        throw retryable("Timeout", `statement timed out after ${config.timeout_ms ?? DEFAULT_TIMEOUT_MS} ms`);
      }
      throw err;
    }
    targets.afterCommit?.(meta);
    return JSON.parse(JSON.stringify(output));
  };
}
