/** Response headers that keep browsers from misreading or caching what the API answers. */
import { createMiddleware } from "hono/factory";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "./env.ts";

/** nosniff, frame and referrer policies on every answer (Hono's secureHeaders defaults). */
export const baseSecurityHeaders = () => secureHeaders();

/** Answers about accounts and tokens are never kept by a browser or a proxy cache, errors included. */
export const noStore = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    await next();
    c.res.headers.set("cache-control", "no-store");
  });

/**
 * The Swagger UI page: scripts and styles only from this origin and the CDN the page loads Swagger UI from
 * (its inline bootstrap script needs 'unsafe-inline'), calls only to this origin, never framed.
 */
export const docsContentSecurityPolicy = () =>
  secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'", "'unsafe-inline'", "https://cdn.jsdelivr.net"],
      styleSrc: ["'self'", "'unsafe-inline'", "https://cdn.jsdelivr.net"],
      imgSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      fontSrc: ["'self'", "https://cdn.jsdelivr.net"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: ["'none'"],
      objectSrc: ["'none'"],
    },
  });
