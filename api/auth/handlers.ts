/** Auth handlers: register, login (throttled), me, and deleting one's own account. */
import { ApiError } from "../errors.ts";
import type { AppRouteHandler } from "../openapi.ts";
import { deleteAccount } from "./delete-account.ts";
import { fitsBcrypt } from "./passwords.ts";
import type * as routes from "./routes.ts";
import { credentialsByEmail, emailTaken, getUser, insertUser, passwordHashOf } from "./store.ts";
import { clientAddress, LoginThrottle } from "./throttle.ts";

export const register: AppRouteHandler<typeof routes.registerRoute> = async (c) => {
  const { sql, passwords } = c.get("services");
  const body = c.req.valid("json");
  const email = body.email.toLowerCase();
  if (await emailTaken(sql, email)) throw new ApiError("CONFLICT", "an account with this email already exists");
  const passwordHash = await passwords.hash(body.password);
  const row = await insertUser(sql, { email, passwordHash, fullName: body.full_name ?? null });
  if (!row) throw new ApiError("CONFLICT", "an account with this email already exists");
  return c.json(row, 201);
};

export const login: AppRouteHandler<typeof routes.loginRoute> = async (c) => {
  const { sql, config, tokens, passwords } = c.get("services");
  const body = c.req.valid("json");
  const email = body.email.toLowerCase();
  const address = clientAddress(c, config.WEFT_TRUSTED_PROXY_HOPS);
  const throttle = new LoginThrottle(sql, config);
  await throttle.attempt(email, address);
  const user = await credentialsByEmail(sql, email);
  const hash = user?.password_hash ?? await passwords.timingDummyHash();
  // bcrypt would compare only the first 72 bytes: a longer password never matches (no account has one).
  // bcrypt still runs for it, so its answer takes as long as any other wrong password's.
  const fits = fitsBcrypt(body.password);
  const matches = await passwords.verify(fits ? body.password : "", hash);
  if (!user || !fits || !matches) throw new ApiError("UNAUTHORIZED", "wrong email or password");
  await throttle.succeeded(email, address);
  const token = await tokens.sign({ sub: user.id, email: user.email });
  return c.json({ access_token: token, token_type: "bearer" as const, expires_in: config.JWT_TTL_SECONDS }, 200);
};

export const me: AppRouteHandler<typeof routes.meRoute> = async (c) => {
  const user = await getUser(c.get("services").sql, c.get("user").id);
  if (!user) throw new ApiError("UNAUTHORIZED", "the account for this token no longer exists");
  return c.json(user, 200);
};

export const deleteMe: AppRouteHandler<typeof routes.deleteMeRoute> = async (c) => {
  const services = c.get("services");
  const { sql, config } = services;
  const { password } = c.req.valid("json");
  const me = c.get("user");
  // A stolen token must not become a way to guess the password: these attempts count like logins.
  const address = clientAddress(c, config.WEFT_TRUSTED_PROXY_HOPS);
  const throttle = new LoginThrottle(sql, config);
  await throttle.attempt(me.email, address);
  const hash = await passwordHashOf(sql, me.id);
  if (hash === undefined) throw new ApiError("UNAUTHORIZED", "the account for this token no longer exists");
  const ok = fitsBcrypt(password) && await services.passwords.verify(password, hash);
  if (!ok) throw new ApiError("FORBIDDEN", "wrong password; the account was not deleted");
  await throttle.succeeded(me.email, address);
  await deleteAccount(services, c.get("logger"), me.id);
  return c.body(null, 204);
};
