/**
 * Temporal's codec-server protocol, so the Temporal UI (and `temporal` CLI) can show encrypted payloads to
 * an authenticated user: POST /api/codec/encode and /api/codec/decode with {payloads: [...]}. Per tenant: a caller
 * decodes only payloads sealed under their own tenant's key; any other payload (another tenant's, the system's, or
 * one sealed before per-tenant keys) comes back unchanged, still ciphertext, counted in X-Weft-Codec-Refused.
 * Encode seals under the caller's tenant only.
 */
import { WORKSPACE_HEADER } from "./workspaces/access.ts";
import { memberWorkspaces } from "./workspaces/store.ts";
import { createRoute, z } from "@hono/zod-openapi";
import type { Payload } from "@temporalio/common";
import { setCookie } from "hono/cookie";
import { CODEC_SESSION_COOKIE } from "./auth/middleware.ts";
import type { TokenService } from "./auth/tokens.ts";
import { TenantCodec } from "../core/payload-codec.ts";
import { ApiError } from "./errors.ts";
import { bearerSecurity, createRouter, errorResponses, jsonBody, jsonResponse } from "./openapi.ts";

const JsonPayload = z.object({
  metadata: z.record(z.string(), z.string()).default({}),
  data: z.string().optional(),
}).openapi("CodecPayload");
const Payloads = z.object({ payloads: z.array(JsonPayload).max(10_000) }).openapi("CodecPayloads");

const b64 = (bytes: Uint8Array) => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
const unb64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

function fromJson(p: z.infer<typeof JsonPayload>): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, unb64(v)])),
    data: p.data === undefined ? undefined : unb64(p.data),
  };
}

function toJson(p: Payload) {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v as Uint8Array)])),
    ...(p.data ? { data: b64(p.data) } : {}),
  };
}

const route = (direction: "encode" | "decode") =>
  createRoute({
    method: "post",
    path: `/api/codec/${direction}`,
    tags: ["codec"],
    security: bearerSecurity,
    summary: `Temporal codec server: ${direction} payloads (for the Temporal UI)`,
    request: jsonBody(Payloads),
    responses: { 200: jsonResponse("Payloads", Payloads), ...errorResponses },
  });

const sessionRoute = createRoute({
  method: "get",
  path: "/api/codec/session",
  tags: ["codec"],
  summary: "Set the codec cookie the Temporal UI sends to the codec server (open in the browser once)",
  request: {
    query: z.object({
      token: z.string().min(1).max(4096),
      // Where to go once signed in: a path on this origin only (no scheme, no host), so no open redirect.
      next: z.string().max(2048).regex(/^\/(?![\/\\])[^\s]*$/, "next must be a path on this server").optional(),
    }),
  },
  responses: {
    200: jsonResponse("Cookie set", z.object({ status: z.string(), message: z.string() })),
    302: { description: "Cookie set; redirected to `next`" },
    400: errorResponses[400],
    401: errorResponses[401],
  },
});

export function codecRoutes(tokens: TokenService) {
  const app = createRouter();

  // Opened once in the browser (…/api/codec/session?token=<access token>): the Temporal UI's codec calls
  // then carry this HttpOnly cookie, with "Include cross-origin credentials" on in the UI's codec settings.
  app.openapi(sessionRoute, async (c) => {
    const { token, next } = c.req.valid("query");
    let expires: number;
    try {
      await tokens.verify(token);
      expires = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).exp;
    } catch {
      throw new ApiError("UNAUTHORIZED", "invalid or expired token");
    }
    // Path "/": the same-origin Temporal UI (api/temporal-ui-proxy.ts) needs it too; the auth middleware accepts
    // it on /api/codec/ only, and SameSite=Lax keeps other sites' forms and fetches from sending it.
    setCookie(c, CODEC_SESSION_COOKIE, token, {
      path: "/",
      httpOnly: true,
      sameSite: "Lax",
      maxAge: Math.max(0, expires - Math.floor(Date.now() / 1000)),
    });
    if (next) return c.redirect(next, 302);
    return c.json({ status: "ok", message: "the Temporal UI can now decode payloads in this browser" }, 200);
  });
  for (const direction of ["encode", "decode"] as const) {
    app.openapi(route(direction), async (c) => {
      const codec = c.get("services").codec;
      if (!(codec instanceof TenantCodec)) {
        throw new ApiError("SERVICE_UNAVAILABLE", "payload encryption is not configured (WEFT_PAYLOAD_KEY)");
      }
      const { payloads } = c.req.valid("json");
      // Encode seals for the request's workspace. Decode opens that workspace's payloads — or, for a person who
      // names none (the Temporal UI sends no Weft-Workspace header), those of every workspace they are in.
      const tenant = c.get("workspace").id;
      const actor = c.get("actor");
      const readable = actor.type === "user" && c.req.header(WORKSPACE_HEADER) === undefined
        ? await memberWorkspaces(c.get("services").sql, actor.id)
        : [tenant];
      let out: Payload[];
      try {
        if (direction === "encode") out = await codec.encodeFor(tenant, payloads.map(fromJson));
        else {
          const decoded = await codec.decodeFor(readable, payloads.map(fromJson));
          out = decoded.payloads;
          c.header("X-Weft-Codec-Refused", String(decoded.refused));
        }
      } catch (err) {
        throw new ApiError("BAD_REQUEST", `could not ${direction} the payloads: ${(err as Error).message}`);
      }
      return c.json({ payloads: out.map(toJson) }, 200);
    });
  }
  return app;
}
