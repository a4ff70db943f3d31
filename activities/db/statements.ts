/**
 * Turns structured db_write statements into SQL with postgres.js: identifiers escaped by the driver,
 * every value a bound parameter. Raw statements run as given with their $1…$n parameters.
 */
import type postgres from "postgres";
import type { DbStatement } from "../../core/node-types.ts";
import { nonRetryable } from "../errors.ts";

type Tx = postgres.TransactionSql<Record<string, unknown>>;
type Fragment = postgres.PendingQuery<postgres.Row[]>;

function whereClause(tx: Tx, where: Record<string, unknown> | undefined): Fragment {
  const parts: Fragment[] = Object.entries(where ?? {}).map(([column, value]) => {
    const col = tx(column);
    if (value === null) return tx`${col} IS NULL`;
    if (typeof value === "object" && value && "is_null" in value) {
      return (value as { is_null: boolean }).is_null ? tx`${col} IS NULL` : tx`${col} IS NOT NULL`;
    }
    if (typeof value === "object" && value && "in" in value) return tx`${col} IN ${tx((value as { in: never[] }).in)}`;
    return tx`${col} = ${value as never}`;
  });
  if (!parts.length) return tx``;
  return tx`WHERE ${parts.reduce((acc, part) => tx`${acc} AND ${part}`)}`;
}

function returningClause(tx: Tx, returning: "*" | string[] | undefined): Fragment {
  if (!returning) return tx``;
  return returning === "*" ? tx`RETURNING *` : tx`RETURNING ${tx(returning)}`;
}

export interface StatementResult {
  rows: Record<string, unknown>[];
  row_count: number;
}

export async function runStatement(tx: Tx, statement: DbStatement, maxRows: number): Promise<StatementResult> {
  if ("sql" in statement) {
    const result = await tx.unsafe(statement.sql, statement.params as never[]);
    return { rows: [...result] as Record<string, unknown>[], row_count: result.count ?? result.length };
  }
  const { operation, table, values, where, returning, columns, limit } = statement;
  const target = tx(table);
  let result;
  switch (operation) {
    case "insert": {
      if (!values) throw nonRetryable("InvalidConfig", "insert needs values");
      const rows = (Array.isArray(values) ? values : [values]) as Record<string, unknown>[];
      result = await tx`INSERT INTO ${target} ${tx(rows as never, ...Object.keys(rows[0]))} ${
        returningClause(tx, returning)
      }`;
      break;
    }
    case "update": {
      if (!values || Array.isArray(values)) throw nonRetryable("InvalidConfig", "update needs values (one object)");
      if (!where || !Object.keys(where).length) {
        throw nonRetryable("InvalidConfig", "refusing to update every row: give a where");
      }
      result = await tx`UPDATE ${target} SET ${tx(values as never, ...Object.keys(values))} ${whereClause(tx, where)} ${
        returningClause(tx, returning)
      }`;
      break;
    }
    case "delete": {
      if (!where || !Object.keys(where).length) {
        throw nonRetryable("InvalidConfig", "refusing to delete every row: give a where");
      }
      result = await tx`DELETE FROM ${target} ${whereClause(tx, where)} ${returningClause(tx, returning)}`;
      break;
    }
    case "select": {
      const cap = Math.min(limit ?? maxRows, maxRows);
      result = await tx`SELECT ${columns ? tx(columns) : tx`*`} FROM ${target} ${whereClause(tx, where)} LIMIT ${cap}`;
      break;
    }
  }
  return { rows: [...result] as Record<string, unknown>[], row_count: result.count ?? result.length };
}
