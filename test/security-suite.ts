/**
 * The shared security suite of an owned resource: every route that reaches it answers 401 without a token and to
 * a token signed with another key, and 404 to another owner. A route's test file calls it once per resource,
 * beside its happy and error tests.
 */
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import type { ApiHarness, TestUser } from "./harness.ts";

export interface SecuredRoute<R> {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** The route's path for a resource `create` made. */
  path: (resource: R) => string;
  /** A valid body, so that only the caller decides the answer. */
  body?: unknown;
}

/** A well-formed, unexpired token for `user` with Weft's issuer and audience, signed with a key Weft never had. */
export function tokenSignedWithAnotherKey(user: TestUser): Promise<string> {
  return new SignJWT({ email: user.email })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(user.id)
    .setIssuer("weft")
    .setAudience("weft-api")
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode("another-key-0123456789abcdef0123456789abcdef"));
}

/**
 * `create(owner)` makes one resource of alice's (a workflow, a run, a secret…); each route in `routes` is then
 * tried without a token (401), with a token signed with another key (401) and as bob (404).
 */
export function runSharedSecurityTests<R>(
  t: ApiHarness,
  resource: string,
  create: (owner: TestUser) => Promise<R>,
  routes: SecuredRoute<R>[],
) {
  describe(`${resource} (shared security)`, () => {
    let owned: R;
    beforeAll(async () => {
      owned = await create(t.alice);
    });
    const each = async (
      token: () => Promise<string | undefined>,
      status: number,
      code: string,
    ) => {
      for (const route of routes) {
        const res = await t.call(route.method, route.path(owned), { token: await token(), body: route.body });
        expect(res.status, `${route.method} ${route.path(owned)}`).toBe(status);
        expect(res.body.error?.code, `${route.method} ${route.path(owned)}`).toBe(code);
      }
    };

    it("answers 401 without a token", () => each(() => Promise.resolve(undefined), 401, "UNAUTHORIZED"));
    it("answers 401 to a token signed with another key", () =>
      each(() => tokenSignedWithAnotherKey(t.alice), 401, "UNAUTHORIZED"));
    it("answers 404 to another owner", () => each(() => Promise.resolve(t.bob.token), 404, "NOT_FOUND"));
  });
}
