/** Auth handlers: register, login (throttled), me, and deleting one's own account. */
import { ApiError } from "../errors.ts";
import { createRouter } from "../openapi.ts";
import { deleteAccount } from "./delete-account.ts";
import { fitsBcrypt, hashPassword, timingDummyHash, verifyPassword } from "./passwords.ts";
import { deleteMeRoute, loginRoute, meRoute, registerRoute } from "./routes.ts";
import { clientAddress, LoginThrottle } from "./throttle.ts";
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
    const email = body.email.toLowerCase();
    const address = clientAddress(c, config.WEFT_TRUSTED_PROXY_HOPS);
    const throttle = new LoginThrottle(sql, config);
    await throttle.attempt(email, address);
    const [user] = await sql`SELECT id, email, password_hash FROM users WHERE lower(email) = ${email}`;
    const hash = (user?.password_hash as string | undefined) ?? await timingDummyHash(config.BCRYPT_COST);
    // bcrypt would compare only the first 72 bytes: a longer password never matches (no account has one).
    // bcrypt still runs for it, so its answer takes as long as any other wrong password's.
    const fits = fitsBcrypt(body.password);
    const matches = await verifyPassword(fits ? body.password : "", hash);
    if (!user || !fits || !matches) throw new ApiError("UNAUTHORIZED", "wrong email or password");
    await throttle.succeeded(email, address);
    const token = await tokens.sign({ sub: user.id as string, email: user.email as string });
    return c.json({ access_token: token, token_type: "bearer" as const, expires_in: config.JWT_TTL_SECONDS }, 200);
  });

  app.openapi(meRoute, async (c) => {
    const { sql } = c.get("services");
    const [user] = await sql`SELECT ${sql.unsafe(USER_COLUMNS)} FROM users WHERE id = ${c.get("user").id}`;
    if (!user) throw new ApiError("UNAUTHORIZED", "the account for this token no longer exists");
    return c.json(user as never, 200);
  });

  app.openapi(deleteMeRoute, async (c) => {
    const services = c.get("services");
    const { sql, config } = services;
    const { password } = c.req.valid("json");
    const me = c.get("user");
    // A stolen token must not become a way to guess the password: these attempts count like logins.
    const address = clientAddress(c, config.WEFT_TRUSTED_PROXY_HOPS);
    const throttle = new LoginThrottle(sql, config);
    await throttle.attempt(me.email, address);
    const [user] = await sql`SELECT password_hash FROM users WHERE id = ${me.id}`;
    if (!user) throw new ApiError("UNAUTHORIZED", "the account for this token no longer exists");
    const ok = fitsBcrypt(password) && await verifyPassword(password, user.password_hash as string);
    if (!ok) throw new ApiError("FORBIDDEN", "wrong password; the account was not deleted");
    await throttle.succeeded(me.email, address);
    await deleteAccount(services, c.get("logger"), me.id);
    return c.body(null, 204);
  });

  return app;
}
