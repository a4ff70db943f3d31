/** Auth handlers: register, login, me. */
import { ApiError } from "../errors.ts";
import { createRouter } from "../openapi.ts";
import { hashPassword, timingDummyHash, verifyPassword } from "./passwords.ts";
import { loginRoute, meRoute, registerRoute } from "./routes.ts";
import type { TokenService } from "./tokens.ts";

const USER_COLUMNS = "id, email, full_name, created_at";

export function authRoutes(tokens: TokenService) {
  const app = createRouter();

  app.openapi(registerRoute, async (c) => {
    const { sql, config } = c.get("services");
    const body = c.req.valid("json");
    const email = body.email.toLowerCase();
    const [existing] = await sql`SELECT 1 FROM users WHERE lower(email) = ${email}`;
    if (existing) throw new ApiError("CONFLICT", "an account with this email already exists");
    const hash = await hashPassword(body.password, config.BCRYPT_COST);
    const rows = await sql`
      INSERT INTO users (email, password_hash, full_name) VALUES (${email}, ${hash}, ${body.full_name ?? null})
      ON CONFLICT DO NOTHING
      RETURNING ${sql.unsafe(USER_COLUMNS)}`;
    if (!rows.length) throw new ApiError("CONFLICT", "an account with this email already exists");
    return c.json(rows[0] as never, 201);
  });

  app.openapi(loginRoute, async (c) => {
    const { sql, config } = c.get("services");
    const body = c.req.valid("json");
    const [user] =
      await sql`SELECT id, email, password_hash FROM users WHERE lower(email) = ${body.email.toLowerCase()}`;
    const hash = (user?.password_hash as string | undefined) ?? await timingDummyHash(config.BCRYPT_COST);
    const ok = await verifyPassword(body.password, hash);
    if (!user || !ok) throw new ApiError("UNAUTHORIZED", "wrong email or password");
    const token = await tokens.sign({ sub: user.id as string, email: user.email as string });
    return c.json({ access_token: token, token_type: "bearer" as const, expires_in: config.JWT_TTL_SECONDS }, 200);
  });

  app.openapi(meRoute, async (c) => {
    const { sql } = c.get("services");
    const [user] = await sql`SELECT ${sql.unsafe(USER_COLUMNS)} FROM users WHERE id = ${c.get("user").id}`;
    if (!user) throw new ApiError("UNAUTHORIZED", "the account for this token no longer exists");
    return c.json(user as never, 200);
  });

  return app;
}
