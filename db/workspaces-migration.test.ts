/**
 * Migration 030 on a database filled by the schema before it: every user gets a personal workspace they own,
 * everything they owned moves into it, and nothing is lost — secrets sealed before still open under the
 * workspace (their associated data named the owner, whose id the personal workspace has).
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMasterKeys, openSecret, sealSecret } from "../core/secrets-crypto.ts";
import { TEST_DATABASE_URL, TEST_SECRETS_KEY } from "../test/env.ts";
import { migrate } from "./migrate.ts";

const url = (() => {
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `${u.pathname}_migration030`;
  return u.toString();
})();
let sql: postgres.Sql;

async function dropDatabase() {
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const a = postgres(admin.toString(), { max: 1, onnotice: () => {} });
  await a.unsafe(`DROP DATABASE IF EXISTS "${new URL(url).pathname.slice(1)}" WITH (FORCE)`);
  await a.end();
}

const counts = async () =>
  Object.fromEntries(
    await Promise.all(
      [
        "users",
        "workflows",
        "nodes",
        "edges",
        "workflow_runs",
        "node_executions",
        "workflow_schedules",
        "workflow_hooks",
        "secrets",
        "vector_collections",
        "run_idempotency_keys",
        "vector_search_requests",
      ].map(async (t) => [t, (await sql.unsafe(`SELECT count(*)::int AS n FROM ${t}`))[0].n]),
    ),
  );

beforeAll(async () => {
  await dropDatabase();
  await migrate(url, () => {}, { before: "030" });
  sql = postgres(url, { max: 2, onnotice: () => {} });
});
afterAll(async () => {
  await sql.end();
  await dropDatabase();
});

describe("migration 030: workspaces", () => {
  it("moves every user's data into their personal workspace and loses nothing", async () => {
    const keys = await loadMasterKeys(TEST_SECRETS_KEY);
    const users = await sql`INSERT INTO users (email, password_hash, full_name)
      VALUES ('a@example.com', 'x', 'A'), ('b@example.com', 'x', null) RETURNING id`;
    const sealedBy: Record<string, string> = {};
    for (const [i, { id: owner }] of users.entries()) {
      const [wf] = await sql`INSERT INTO workflows (owner_id, name) VALUES (${owner}, ${"wf" + i}) RETURNING id`;
      const [n1] =
        await sql`INSERT INTO nodes (workflow_id, name, type) VALUES (${wf.id}, 'a', 'transform') RETURNING id`;
      const [n2] =
        await sql`INSERT INTO nodes (workflow_id, name, type) VALUES (${wf.id}, 'b', 'transform') RETURNING id`;
      await sql`INSERT INTO edges (workflow_id, source_node_id, target_node_id) VALUES (${wf.id}, ${n1.id}, ${n2.id})`;
      const [run] =
        await sql`INSERT INTO workflow_runs (workflow_id, owner_id, snapshot, version_hash, workflow_version,
        temporal_workflow_id) VALUES (${wf.id}, ${owner}, '{}', 'h', 1, 'weft-run-x') RETURNING id`;
      await sql`INSERT INTO node_executions (run_id, node_id, node_name, type, status)
        VALUES (${run.id}, ${n1.id}, 'a', 'transform', 'succeeded')`;
      await sql`INSERT INTO workflow_schedules (workflow_id, owner_id, cron, temporal_schedule_id)
        VALUES (${wf.id}, ${owner}, '* * * * *', ${"weft-schedule-" + i})`;
      await sql`INSERT INTO workflow_hooks (workflow_id, token_hash) VALUES (${wf.id}, ${"hash" + i})`;
      await sql`INSERT INTO run_idempotency_keys (owner_id, key, workflow_id, run_id)
        VALUES (${owner}, 'k', ${wf.id}, ${run.id})`;
      const [col] = await sql`INSERT INTO vector_collections (owner_id, name) VALUES (${owner}, 'notes') RETURNING id`;
      await sql`INSERT INTO vector_search_requests (id, tenant_id, collection_id, request)
        VALUES (gen_random_uuid(), ${owner}, ${col.id}, '{}')`;
      const value = `value of ${owner}`;
      const s = await sealSecret(keys, owner, "API_TOKEN", value);
      await sql`INSERT INTO secrets (owner_id, name, key_id, iv, ciphertext)
        VALUES (${owner}, 'API_TOKEN', ${s.key_id}, ${s.iv}, ${s.ciphertext})`;
      sealedBy[owner] = value;
    }
    const before = await counts();

    expect(await migrate(url)).toContain("030_workspaces.sql");

    expect(await counts()).toEqual(before);
    for (const { id: owner } of users) {
      const [ws] = await sql`SELECT w.id, w.personal_of, m.role FROM workspaces w
        JOIN workspace_members m ON m.workspace_id = w.id AND m.user_id = ${owner} WHERE w.personal_of = ${owner}`;
      expect(ws).toMatchObject({ id: owner, role: "owner" });
      for (const table of ["workflows", "workflow_runs", "workflow_schedules", "secrets", "vector_collections"]) {
        const rows = await sql.unsafe(`SELECT workspace_id FROM ${table} WHERE owner_id = $1`, [owner]);
        expect(rows.length, table).toBeGreaterThan(0);
        expect(rows.every((r) => r.workspace_id === ws.id), table).toBe(true);
      }
      const [key] = await sql`SELECT workspace_id, actor_id FROM run_idempotency_keys WHERE owner_id = ${owner}`;
      expect(key).toEqual({ workspace_id: ws.id, actor_id: owner });
      // The secret opens under its workspace: nothing was re-encrypted, and nothing had to be.
      const [secret] =
        await sql`SELECT workspace_id, name, key_id, iv, ciphertext FROM secrets WHERE owner_id = ${owner}`;
      expect(await openSecret(keys, secret.workspace_id, secret.name, secret as never)).toBe(sealedBy[owner]);
    }
  });

  it("gives a user created afterwards a personal workspace, and rows inserted by owner land in it", async () => {
    const [u] = await sql`INSERT INTO users (email, password_hash) VALUES ('c@example.com', 'x') RETURNING id`;
    const [m] = await sql`SELECT role FROM workspace_members WHERE workspace_id = ${u.id} AND user_id = ${u.id}`;
    expect(m.role).toBe("owner");
    const [wf] = await sql`INSERT INTO workflows (owner_id, name) VALUES (${u.id}, 'later') RETURNING workspace_id`;
    expect(wf.workspace_id).toBe(u.id);
    // Deleting the user takes the personal workspace with it.
    await sql`DELETE FROM users WHERE id = ${u.id}`;
    expect(await sql`SELECT 1 FROM workspaces WHERE id = ${u.id}`).toHaveLength(0);
  });

  it("keeps the audit log append-only, even for a superuser in replica mode", async () => {
    const [ws] = await sql`INSERT INTO workspaces (name) VALUES ('team') RETURNING id`;
    await sql`INSERT INTO audit_log (workspace_id, actor_type, action, resource_type) VALUES
      (${ws.id}, 'system', 'workspace.created', 'workspace')`;
    const [{ rolsuper }] = await sql`SELECT rolsuper FROM pg_roles WHERE rolname = current_user`;
    expect(rolsuper).toBe(true);
    await expect(sql`UPDATE audit_log SET action = 'workspace.deleted'`).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM audit_log`).rejects.toThrow(/append-only/);
    await expect(sql`TRUNCATE audit_log`).rejects.toThrow(/append-only/);
    await expect(sql.begin(async (tx) => {
      await tx`SET LOCAL session_replication_role = replica`;
      await tx`DELETE FROM audit_log`;
    })).rejects.toThrow(/append-only/);
    // No foreign key: deleting the workspace keeps its rows.
    await sql`DELETE FROM workspaces WHERE id = ${ws.id}`;
    expect(await sql`SELECT 1 FROM audit_log WHERE workspace_id = ${ws.id}`).toHaveLength(1);
  });
});
