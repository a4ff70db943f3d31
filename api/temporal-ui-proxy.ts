/**
 * TEMPORAL_UI_PROXY_URL (scripts/run.sh's dev UI, or the Helm chart's temporalUi): the Temporal UI served under the
 * API's own origin at /temporal/, so the UI's codec calls to /api/codec are same-origin and carry the codec session
 * cookie with no UI setting. Only a browser holding a valid session (GET /api/codec/session) gets through; anyone
 * else gets a 401.
 */
import { Hono } from "hono";
import { getCookie } from "hono/cookie";
import { proxy } from "hono/proxy";
import { CODEC_SESSION_COOKIE } from "./auth/middleware.ts";
import type { TokenService } from "./auth/tokens.ts";
import type { AppEnv } from "./env.ts";
import { ApiError } from "./errors.ts";

export const TEMPORAL_UI_PATH = "/temporal";

export function temporalUiProxyRoutes(upstream: string, tokens: TokenService) {
  const app = new Hono<AppEnv>();
  const base = upstream.replace(/\/$/, "");
  app.all(`${TEMPORAL_UI_PATH}/*`, async (c) => {
    const token = getCookie(c, CODEC_SESSION_COOKIE);
    try {
      if (!token) throw new Error("no session");
      await tokens.verify(token);
    } catch {
      throw new ApiError(
        "UNAUTHORIZED",
        "sign in first: open /api/codec/session?token=<access token>&next=/temporal/ in this browser",
      );
    }
    const url = new URL(c.req.url);
    const headers = new Headers(c.req.raw.headers);
    // The session and the bearer token are Weft's; the UI has no use for them.
    headers.delete("authorization");
    headers.delete("host");
    return await proxy(`${base}${url.pathname}${url.search}`, { ...c.req, headers, redirect: "manual" });
  });
  return app;
}
