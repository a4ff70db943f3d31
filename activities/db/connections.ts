/**
 * Operator-declared databases for db_write (`connection: "<name>"`, WEFT_DB_CONNECTIONS). Each connection
 * dials through the egress policy (Weft's own PostgreSQL server is part of the control plane it refuses,
 * and the socket goes to the address that was checked), and a role that could take over the server is
 * refused before any statement runs (checkRole).
 */
import { connect as netConnect, type Socket } from "node:net";
import { once } from "node:events";
import { z } from "zod";
import { CONNECTION_NAME_PATTERN, SANDBOX_CONNECTION } from "../../core/node-types.ts";
import { connect, type Sql } from "../../db/client.ts";
import { type EgressPolicy, resolveChecked } from "../http/egress-policy.ts";
import { nonRetryable } from "../errors.ts";

/** WEFT_DB_CONNECTIONS: a JSON object of connection name → postgres:// URL, declared by the operator. */
const dbConnections = z.preprocess((v) => v || undefined, z.string().default("{}")).transform((v, ctx) => {
  try {
    return JSON.parse(v) as unknown;
  } catch {
    ctx.addIssue({ code: "custom", message: 'not JSON: give an object like {"orders": "postgres://…"}' });
    return z.NEVER;
  }
}).pipe(
  z.record(z.string(), z.string().regex(/^postgres(ql)?:\/\/[^/]/, { message: "a postgres:// URL" }))
    .superRefine((record, ctx) => {
      for (const name of Object.keys(record)) {
        if (!CONNECTION_NAME_PATTERN.test(name)) {
          ctx.addIssue({ code: "custom", message: `"${name}": connection names are letters, digits, _ and -` });
        }
        if (name === SANDBOX_CONNECTION) {
          ctx.addIssue({ code: "custom", message: `"${name}" is reserved for the built-in per-tenant sandbox` });
        }
      }
    }),
);

export const dbConnectionsEnv = {
  /** Databases db_write nodes may name besides the sandbox (`connection: "<name>"`). */
  WEFT_DB_CONNECTIONS: dbConnections,
};

/** A socket to a checked address of `host`; postgres.js negotiates TLS on it with `host` as the server name. */
export async function guardedSocket(host: string, port: number, policy: EgressPolicy): Promise<Socket> {
  const [first] = await resolveChecked(host, port, policy);
  const socket = netConnect({ host: first.address, port });
  await once(socket, "connect");
  Object.assign(socket, { host: host.replace(/^\[|\]$/g, "") });
  return socket;
}

/**
 * Roles and memberships that reach beyond the database: superuser, role and database creation, replication,
 * bypassing row security, and the built-in roles that read or write server files or run programs.
 */
const TOO_POWERFUL = `
  SELECT r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb FROM pg_roles r
  WHERE (pg_has_role(session_user, r.oid, 'MEMBER') OR pg_has_role(current_user, r.oid, 'MEMBER'))
    AND (r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls
      OR r.rolname IN ('pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files'))`;

/** Refuses, inside the node's own transaction and before its statements, a role that is too powerful. */
export async function checkRole(tx: Sql, what: string): Promise<void> {
  const rows = await tx.unsafe(TOO_POWERFUL);
  if (!rows.length) return;
  const r = rows[0];
  const why = r.rolsuper
    ? "is a superuser"
    : r.rolcreaterole
    ? "can create roles"
    : r.rolcreatedb
    ? "can create databases"
    : "has server-wide privileges";
  throw nonRetryable(
    "ConnectionRefused",
    `${what} logs in as a role that ${why} (through "${r.rolname}"); Weft refuses such connections: ` +
      "give it a role without SUPERUSER, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS",
  );
}

export function createNamedConnections(urls: Record<string, string>, egress: EgressPolicy) {
  const pools = new Map<string, Sql>();
  return function namedConnection(name: string): Sql {
    const url = Object.hasOwn(urls, name) ? urls[name] : undefined;
    if (!url) {
      const declared = Object.keys(urls);
      throw nonRetryable(
        "ConnectionNotDeclared",
        `no database connection named "${name}": connections are declared by the operator in the worker's ` +
          `WEFT_DB_CONNECTIONS (declared: ${declared.length ? declared.join(", ") : "none"})`,
      );
    }
    let pool = pools.get(name);
    if (!pool) {
      const parsed = new URL(url);
      const host = decodeURIComponent(parsed.hostname);
      const port = Number(parsed.port) || 5432;
      // postgres.js dials through `socket` when given one (documented, though missing from its types).
      const socket = { socket: () => guardedSocket(host, port, egress) } as Record<string, unknown>;
      pool = connect(url, { max: 4, idle_timeout: 60, ...socket });
      pools.set(name, pool);
    }
    return pool;
  };
}
