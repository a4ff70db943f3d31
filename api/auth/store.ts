/** The users table's SQL as the auth handlers use it. */
import type { Sql } from "../../db/client.ts";

const USER_COLUMNS = "id, email, full_name, created_at";

export interface UserRow {
  id: string;
  email: string;
  full_name: string | null;
  created_at: string;
}

export async function emailTaken(sql: Sql, email: string): Promise<boolean> {
  const [existing] = await sql`SELECT 1 FROM users WHERE lower(email) = ${email}`;
  return Boolean(existing);
}

/** The new user, or undefined when the email was taken meanwhile. */
export async function insertUser(
  sql: Sql,
  user: { email: string; passwordHash: string; fullName: string | null },
): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`
    INSERT INTO users (email, password_hash, full_name) VALUES (${user.email}, ${user.passwordHash}, ${user.fullName})
    ON CONFLICT DO NOTHING
    RETURNING ${sql.unsafe(USER_COLUMNS)}`;
  return row;
}

export async function getUser(sql: Sql, id: string): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`SELECT ${sql.unsafe(USER_COLUMNS)} FROM users WHERE id = ${id}`;
  return row;
}

/** The password hash to check a login against: by email (lower-cased by the caller). */
export async function credentialsByEmail(sql: Sql, email: string) {
  const [row] = await sql<{ id: string; email: string; password_hash: string }[]>`
    SELECT id, email, password_hash FROM users WHERE lower(email) = ${email}`;
  return row;
}

export async function passwordHashOf(sql: Sql, id: string): Promise<string | undefined> {
  const [row] = await sql<{ password_hash: string }[]>`SELECT password_hash FROM users WHERE id = ${id}`;
  return row?.password_hash;
}
