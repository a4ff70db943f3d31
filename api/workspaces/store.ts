/** The workspaces' and members' SQL. */
import type { Sql } from "../../db/client.ts";
import type { Role } from "./roles.ts";

export interface Workspace {
  id: string;
  name: string;
  role: Role;
  personal: boolean;
}

export interface Member {
  user_id: string;
  email: string;
  role: Role;
}

const present = (row: Record<string, unknown>, role: Role): Workspace => ({
  id: row.id as string,
  name: row.name as string,
  role,
  personal: row.personal_of !== null,
});

export async function listWorkspacesOf(sql: Sql, userId: string, page: { limit: number; offset: number }) {
  const [rows, [{ total }]] = await Promise.all([
    sql`SELECT w.id, w.name, w.personal_of, m.role FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
        WHERE m.user_id = ${userId}
        ORDER BY (w.personal_of IS NULL), w.created_at, w.id LIMIT ${page.limit} OFFSET ${page.offset}`,
    sql`SELECT count(*)::int AS total FROM workspace_members WHERE user_id = ${userId}`,
  ]);
  return { items: rows.map((r) => present(r, r.role as Role)), total: total as number };
}

export async function getWorkspace(sql: Sql, id: string, role: Role): Promise<Workspace | null> {
  const [row] = await sql`SELECT id, name, personal_of FROM workspaces WHERE id = ${id}`;
  return row ? present(row, role) : null;
}

export async function insertWorkspace(tx: Sql, name: string, ownerId: string): Promise<Workspace> {
  const [row] = await tx`INSERT INTO workspaces (name) VALUES (${name}) RETURNING id, name, personal_of`;
  await tx`INSERT INTO workspace_members (workspace_id, user_id, role) VALUES (${row.id}, ${ownerId}, 'owner')`;
  return present(row, "owner");
}

export async function renameWorkspace(tx: Sql, id: string, name: string, role: Role) {
  const [row] = await tx`UPDATE workspaces SET name = ${name}, updated_at = now() WHERE id = ${id}
    RETURNING id, name, personal_of`;
  return row ? present(row, role) : null;
}

export async function listMembers(sql: Sql, workspaceId: string): Promise<Member[]> {
  return await sql`SELECT m.user_id, u.email, m.role FROM workspace_members m JOIN users u ON u.id = m.user_id
    WHERE m.workspace_id = ${workspaceId} ORDER BY m.created_at, u.email` as unknown as Member[];
}

/** Locks the workspace's membership for the rest of the transaction: owner counts stay true until commit. */
export async function lockMembers(tx: Sql, workspaceId: string): Promise<void> {
  await tx`SELECT 1 FROM workspaces WHERE id = ${workspaceId} FOR UPDATE`;
}

export async function getMember(sql: Sql, workspaceId: string, userId: string): Promise<Member | null> {
  const [row] = await sql`SELECT m.user_id, u.email, m.role FROM workspace_members m JOIN users u ON u.id = m.user_id
    WHERE m.workspace_id = ${workspaceId} AND m.user_id = ${userId}`;
  return (row as Member | undefined) ?? null;
}

export async function countOwners(tx: Sql, workspaceId: string): Promise<number> {
  const [{ n }] = await tx`SELECT count(*)::int AS n FROM workspace_members
    WHERE workspace_id = ${workspaceId} AND role = 'owner'`;
  return n as number;
}

export async function findUserByEmail(sql: Sql, email: string) {
  const [row] = await sql`SELECT id, email FROM users WHERE lower(email) = ${email.toLowerCase()}`;
  return row ? { id: row.id as string, email: row.email as string } : null;
}

/** Inserts the membership; null when the user is a member already. */
export async function insertMember(tx: Sql, workspaceId: string, user: { id: string; email: string }, role: Role) {
  const rows = await tx`INSERT INTO workspace_members (workspace_id, user_id, role)
    VALUES (${workspaceId}, ${user.id}, ${role}) ON CONFLICT DO NOTHING RETURNING user_id`;
  return rows.length ? { user_id: user.id, email: user.email, role } : null;
}

export async function setMemberRole(tx: Sql, workspaceId: string, userId: string, role: Role) {
  await tx`UPDATE workspace_members SET role = ${role} WHERE workspace_id = ${workspaceId} AND user_id = ${userId}`;
}

export async function deleteMember(tx: Sql, workspaceId: string, userId: string) {
  await tx`DELETE FROM workspace_members WHERE workspace_id = ${workspaceId} AND user_id = ${userId}`;
}

/** The ids of every workspace the user is a member of. */
export async function memberWorkspaces(sql: Sql, userId: string): Promise<string[]> {
  const rows = await sql`SELECT workspace_id FROM workspace_members WHERE user_id = ${userId}`;
  return rows.map((r) => r.workspace_id as string);
}

/** The team workspaces this user is the only owner of. */
export async function lastOwnerOf(sql: Sql, userId: string): Promise<string[]> {
  const rows = await sql`SELECT m.workspace_id FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
    WHERE m.user_id = ${userId} AND m.role = 'owner' AND w.personal_of IS NULL
      AND NOT EXISTS (SELECT 1 FROM workspace_members o
        WHERE o.workspace_id = m.workspace_id AND o.role = 'owner' AND o.user_id <> ${userId})`;
  return rows.map((r) => r.workspace_id as string);
}
