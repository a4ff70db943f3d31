/** Requires a valid bearer credential — a person's token or a service's API key — and puts the caller on the request. */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../errors.ts";
import type { AppEnv } from "../env.ts";
import { hashApiKey, isApiKey } from "./api-keys.ts";
import type { TokenService } from "./tokens.ts";

/** last_used_at is written at most this often per key and process: it says roughly when, not how often. */
const LAST_USED_RESOLUTION_MS = 60_000;

export function requireAuth(tokens: TokenService) {
  const lastUsedWritten = new Map<string, number>();

  async function authenticateKey(c: Context<AppEnv>, token: string) {
    const { sql, accessCache } = c.get("services");
    const key = await accessCache.apiKey(sql, await hashApiKey(token));
    if (!key) throw new ApiError("UNAUTHORIZED", "invalid or revoked API key");
    if (key.expires_at && Date.parse(key.expires_at) <= Date.now()) {
      throw new ApiError("UNAUTHORIZED", "expired API key");
    }
    const now = Date.now();
    if (now - (lastUsedWritten.get(key.id) ?? 0) >= LAST_USED_RESOLUTION_MS) {
      if (lastUsedWritten.size >= 10_000) lastUsedWritten.clear();
      lastUsedWritten.set(key.id, now);
      await sql`UPDATE api_keys SET last_used_at = now() WHERE id = ${key.id}`;
    }
    c.set("actor", { type: "api_key", id: key.id, name: key.name, workspaceId: key.workspace_id, role: key.role });
  }

  return createMiddleware<AppEnv>(async (c, next) => {
    // The Temporal UI cannot send a bearer token to the codec server; it sends this cookie instead.
    const sent = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
    // An API key travels only as a bearer credential, never in the codec cookie.
    if (sent && isApiKey(sent)) {
      await authenticateKey(c, sent);
      return await next();
    }
    const token = sent ?? (c.req.path.startsWith("/api/codec/") ? getCookie(c, CODEC_SESSION_COOKIE) : undefined);
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
    c.set("actor", { type: "user", id: claims.sub, email: claims.email });
    await next();
  });
}

export const CODEC_SESSION_COOKIE = "weft_codec_session";
