import { SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { call } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";
import { TEST_JWT_SECRET } from "../../test/env.ts";

const t = useApiHarness({ names: ["auth", "bob"] });

const key = new TextEncoder().encode(TEST_JWT_SECRET);
const sign = (
  claims: { sub: string; email: string },
  opts: { alg?: string; iss?: string; aud?: string; exp?: string | number; key?: Uint8Array } = {},
) =>
  new SignJWT({ email: claims.email })
    .setProtectedHeader({ alg: opts.alg ?? "HS256" })
    .setSubject(claims.sub)
    .setIssuer(opts.iss ?? "weft")
    .setAudience(opts.aud ?? "weft-api")
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? "1h")
    .sign(opts.key ?? key);

describe("register (happy)", () => {
  it("creates a user, stores a bcrypt hash of cost >= 12 and never returns it", async () => {
    const email = `new-${Date.now()}@Example.com`;
    const res = await call(t.app, "POST", "/api/auth/register", {
      body: { email, password: "long enough 1", full_name: "Ada" },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ email: email.toLowerCase(), full_name: "Ada" });
    expect(res.body).not.toHaveProperty("password_hash");
    const [row] = await t.sql`SELECT password_hash FROM users WHERE id = ${res.body.id}`;
    expect(row.password_hash).toMatch(/^\$2[aby]\$(1[2-9])\$/);
  });
});

describe("register (errors)", () => {
  it("answers 409 for a duplicate email, whatever its case", async () => {
    const res = await call(t.app, "POST", "/api/auth/register", {
      body: { email: t.alice.email.toUpperCase(), password: "whatever123" },
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("CONFLICT");
  });

  it("names the bad fields: invalid email, short password, unknown field", async () => {
    const res = await call(t.app, "POST", "/api/auth/register", {
      body: { email: "nope", password: "short", admin: true },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
    const fields = res.body.error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(["email", "password", "admin"]));
    expect(res.body.error.request_id).toBeTruthy();
  });

  it("refuses passwords longer than bcrypt's 72 bytes instead of truncating them", async () => {
    const res = await call(t.app, "POST", "/api/auth/register", {
      body: { email: `long-${Date.now()}@x.io`, password: "é".repeat(40) },
    });
    expect(res.status).toBe(400);
  });

  it("answers 400 for malformed JSON and for a missing body", async () => {
    const bad = await call(t.app, "POST", "/api/auth/register", { rawBody: '{"email": ' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/json/i);
    const none = await call(t.app, "POST", "/api/auth/register", {});
    expect(none.status).toBe(400);
    expect(none.body.error).toBeDefined();
  });
});

describe("login", () => {
  it("returns a bearer token that works on /me", async () => {
    const res = await call(t.app, "POST", "/api/auth/login", {
      body: { email: t.alice.email, password: t.alice.password },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: "bearer", expires_in: 3600 });
    const me = await call(t.app, "GET", "/api/auth/me", { token: res.body.access_token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: t.alice.id, email: t.alice.email });
  });

  it("answers 401 for a wrong password and for an unknown email, with the same message", async () => {
    const wrong = await call(t.app, "POST", "/api/auth/login", {
      body: { email: t.alice.email, password: "wrong password" },
    });
    const unknown = await call(t.app, "POST", "/api/auth/login", {
      body: { email: "nobody@example.com", password: "wrong password" },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
  });
});

describe("tokens (security)", () => {
  const me = (token?: string, raw?: string) =>
    call(t.app, "GET", "/api/auth/me", raw ? { headers: { authorization: raw } } : { token });

  it("401 without a token or with a malformed header", async () => {
    expect((await me()).status).toBe(401);
    expect((await me(undefined, "Basic abc")).status).toBe(401);
    expect((await me("not.a.jwt")).status).toBe(401);
  });

  it("401 for alg none", async () => {
    const token = new UnsecuredJWT({ email: t.alice.email }).setSubject(t.alice.id).setIssuer("weft").setAudience(
      "weft-api",
    )
      .setIssuedAt().setExpirationTime("1h").encode();
    expect((await me(token)).status).toBe(401);
  });

  it("401 for expired, tampered, wrong-audience, wrong-issuer, wrong-key and other-algorithm tokens", async () => {
    const claims = { sub: t.alice.id, email: t.alice.email };
    expect((await me(await sign(claims))).status).toBe(200);
    expect((await me(await sign(claims, { exp: Math.floor(Date.now() / 1000) - 60 }))).status).toBe(401);
    expect((await me(await sign(claims, { aud: "someone-else" }))).status).toBe(401);
    expect((await me(await sign(claims, { iss: "evil" }))).status).toBe(401);
    expect((await me(await sign(claims, { key: new TextEncoder().encode("x".repeat(40)) }))).status).toBe(401);
    expect((await me(await sign(claims, { alg: "HS512" }))).status).toBe(401);
    const good = await sign(claims);
    const [h, p, s] = good.split(".");
    const payload = JSON.parse(Buffer.from(p, "base64url").toString());
    const tampered = [h, Buffer.from(JSON.stringify({ ...payload, sub: crypto.randomUUID() })).toString("base64url"), s]
      .join(".");
    expect((await me(tampered)).status).toBe(401);
  });
});
