/** Requires a valid bearer token and puts the user on the request. */
import { getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../errors.ts";
import type { AppEnv } from "../env.ts";
import type { TokenService } from "./tokens.ts";

export function requireAuth(tokens: TokenService) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    // The Temporal UI cannot send a bearer token to the codec server; it sends this cookie instead.
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1] ??
      (c.req.path.startsWith("/api/codec/") ? getCookie(c, CODEC_SESSION_COOKIE) : undefined);
    if (!token) throw new ApiError("UNAUTHORIZED", "missing bearer token");
    let claims;
    try {
      claims = await tokens.verify(token);
    } catch {
      throw new ApiError("UNAUTHORIZED", "invalid or expired token");
    }
    // Checked on every request, against the database every API process shares: a deleted account's tokens
    // stop working everywhere the moment its row is gone (a primary-key lookup; the signature check is cached).
    const { sql } = c.get("services");
    const [live] = await sql`SELECT 1 FROM users WHERE id = ${claims.sub}`;
    if (!live) throw new ApiError("UNAUTHORIZED", "the account for this token no longer exists");
    c.set("user", { id: claims.sub, email: claims.email });
    await next();
  });
}

export const CODEC_SESSION_COOKIE = "weft_codec_session";
