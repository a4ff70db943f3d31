/**
 * The `db_write` node: statements in one transaction against the sandbox database, with a statement
 * timeout and a row cap. Exactly-once under retries: an execution ledger row keyed by run and node is
 * written in the same transaction, so an attempt that committed and then died is not repeated — the next
 * attempt finds the ledger row and returns what was committed.
 */
import { type DbStatement, dbWriteConfigSchema } from "../../core/node-types.ts";
import { connect, type Sql } from "../../db/client.ts";
import { nonRetryable, retryable } from "../errors.ts";
import { runStatement, type StatementResult } from "./statements.ts";

export interface DbWriteMeta {
  runId: string;
  nodeId: string;
  attempt: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** SQLSTATE classes that mean the statement itself is wrong (not worth a retry). */
const BAD_INPUT = /^(22|23|42|44|2F|0A)/;

const ledgerReady = new WeakSet<Sql>();
async function ensureLedger(sql: Sql) {
  if (ledgerReady.has(sql)) return;
  try {
    await sql`CREATE TABLE IF NOT EXISTS weft_execution_ledger (
      key text PRIMARY KEY, output jsonb NOT NULL, committed_at timestamptz NOT NULL DEFAULT now())`;
  } catch (err) {
    // Two workers creating it at once: one of them loses the race, and the table exists.
    if (!["23505", "42P07"].includes((err as { code?: string }).code ?? "")) throw err;
  }
  ledgerReady.add(sql);
}

function statementsOf(config: Record<string, unknown>): DbStatement[] {
  if (config.statements) return config.statements as DbStatement[];
  if (config.sql) return [{ sql: config.sql as string, params: (config.params as unknown[]) ?? [] }];
  const { operation, table, values, where, returning, columns, limit } = config;
  return [{ operation, table, values, where, returning, columns, limit } as DbStatement];
}

/** Pools for named connections (URLs from secrets), one per URL per worker process. */
const namedPools = new Map<string, Sql>();
function namedConnection(url: string): Sql {
  if (!/^postgres(ql)?:\/\//.test(url)) throw nonRetryable("InvalidConfig", "connection is not a postgres:// URL");
  let pool = namedPools.get(url);
  if (!pool) {
    pool = connect(url, { max: 4 });
    namedPools.set(url, pool);
  }
  return pool;
}

export function createDbWrite(sandbox: () => Sql) {
  return async function dbWrite(rendered: Record<string, unknown>, meta: DbWriteMeta): Promise<unknown> {
    // The connection arrives rendered (the secret's URL), so it is checked apart from the rest.
    const { connection, ...rest } = rendered;
    const parsed = dbWriteConfigSchema.safeParse(rest);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((i) => `${["config", ...i.path].join(".")}: ${i.message}`).join("; ");
      throw nonRetryable("InvalidConfig", `invalid db_write config after rendering templates: ${fields}`);
    }
    const config = parsed.data as Record<string, unknown> & { max_rows: number; timeout_ms?: number };
    const sql = typeof connection === "string" && connection ? namedConnection(connection) : sandbox();
    await ensureLedger(sql);
    const key = `${meta.runId}:${meta.nodeId}`;
    let output: unknown;
    try {
      output = await sql.begin(async (tx) => {
        await tx.unsafe(`SET LOCAL statement_timeout = ${Math.floor(config.timeout_ms ?? DEFAULT_TIMEOUT_MS)}`);
        // Serialise attempts of the same node; a committed earlier attempt wins.
        await tx`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 7723))`;
        const [done] = await tx`SELECT output FROM weft_execution_ledger WHERE key = ${key}`;
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
        await tx`INSERT INTO weft_execution_ledger (key, output) VALUES (${key}, ${
          tx.json(JSON.parse(JSON.stringify(out)))
        })`;
        return out;
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code && BAD_INPUT.test(code)) throw nonRetryable("DbError", `${(err as Error).message} (SQLSTATE ${code})`);
      if (code === "57014") {
        throw retryable("Timeout", `statement timed out after ${config.timeout_ms ?? DEFAULT_TIMEOUT_MS} ms`);
      }
      throw err;
    }
    // Fault injection for the durability test: die right after the commit, before Temporal hears of it.
    if (process.env.WEFT_FAULT_INJECTION === "crash_after_db_commit" && meta.attempt === 1) {
      process.kill(process.pid, "SIGKILL");
    }
    return JSON.parse(JSON.stringify(output));
  };
}
