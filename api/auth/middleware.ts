/** Requires a valid bearer token and puts the user on the request. */
import { createMiddleware } from "hono/factory";
import { ApiError } from "../errors.ts";
import type { AppEnv } from "../env.ts";
import type { TokenService } from "./tokens.ts";

export function requireAuth(tokens: TokenService) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new ApiError("UNAUTHORIZED", "missing bearer token");
    try {
      const claims = await tokens.verify(match[1]);
      c.set("user", { id: claims.sub, email: claims.email });
    } catch {
      throw new ApiError("UNAUTHORIZED", "invalid or expired token");
    }
    await next();
  });
}
