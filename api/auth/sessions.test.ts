/**
 * Sessions as an attacker meets them: deleted accounts, forged issue times, bcrypt's 72-byte prefix, and
 * password guessing. Two apps share the database as two API processes would.
 */
import { ScheduleNotFoundError } from "@temporalio/client";
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { buildWorkflow, call, registerUser, setupApp, type TestContext } from "../../test/helpers.ts";
import { TEST_JWT_SECRET } from "../../test/env.ts";
import { temporalWorkflowId } from "../../db/runs.ts";

let a: TestContext;
let b: TestContext;
beforeAll(async () => {
  // Two API processes: each has its own app, token cache and connection pool; only the database is shared.
  [a, b] = await Promise.all([setupApp(), setupApp()]);
});

const until = async <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

const counts = async (t: TestContext, userId: string) => {
  const [row] = await t.sql`SELECT
    (SELECT count(*)::int FROM users WHERE id = ${userId}) AS users,
    (SELECT count(*)::int FROM workflows WHERE owner_id = ${userId}) AS workflows,
    (SELECT count(*)::int FROM workflow_runs WHERE owner_id = ${userId}) AS runs,
    (SELECT count(*)::int FROM secrets WHERE owner_id = ${userId}) AS secrets,
    (SELECT count(*)::int FROM workflow_schedules WHERE owner_id = ${userId}) AS schedules,
    (SELECT count(*)::int FROM vector_collections WHERE owner_id = ${userId}) AS collections,
    (SELECT count(*)::int FROM workflow_hooks h JOIN workflows w ON w.id = h.workflow_id
      WHERE w.owner_id = ${userId}) AS hooks`;
  return row;
};

/** A user owning one of everything: a waiting run, a schedule in Temporal, a hook, a secret, a collection. */
async function populatedUser(prefix: string) {
  const user = await registerUser(a.app, prefix);
  const { workflowId } = await buildWorkflow(a.app, user.token, [{ name: "gate", type: "approval", config: {} }]);
  const run = await call(a.app, "POST", `/api/workflows/${workflowId}/execute`, { token: user.token, body: {} });
  expect(run.status).toBe(202);
  const schedule = await call(a.app, "POST", `/api/workflows/${workflowId}/schedules`, {
    token: user.token,
    body: { cron: "0 0 1 1 *" },
  });
  expect(schedule.status).toBe(201);
  expect((await call(a.app, "POST", `/api/workflows/${workflowId}/hook`, { token: user.token })).status).toBe(201);
  const secret = await call(a.app, "POST", "/api/secrets", { token: user.token, body: { name: "K", value: "v" } });
  expect(secret.status).toBe(201);
  const collection = await call(a.app, "POST", "/api/vectors/collections", { token: user.token, body: { name: "c" } });
  expect(collection.status).toBe(201);
  return {
    ...user,
    workflowId,
    runId: run.body.run_id as string,
    scheduleId: schedule.body.temporal.schedule_id as string,
  };
}

describe("DELETE /api/auth/me", () => {
  it("a wrong password, no token or another user's token deletes nothing", async () => {
    const alice = await populatedUser("del-alice");
    const bob = await registerUser(a.app, "del-bob");
    const before = await counts(a, alice.id);

    const wrong = await call(a.app, "DELETE", "/api/auth/me", { token: alice.token, body: { password: "guess 123" } });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe("FORBIDDEN");
    // bcrypt's 72-byte prefix of the right password plus one more byte is not the password either.
    const longer = await call(a.app, "DELETE", "/api/auth/me", {
      token: alice.token,
      body: { password: `${alice.password}${"x".repeat(80)}` },
    });
    expect(longer.status).toBe(403);
    expect((await call(a.app, "DELETE", "/api/auth/me", { body: { password: alice.password } })).status).toBe(401);
    const noBody = await call(a.app, "DELETE", "/api/auth/me", { token: alice.token });
    expect(noBody.status).toBe(400);

    expect(await counts(a, alice.id)).toEqual(before);
    expect((await call(b.app, "GET", "/api/auth/me", { token: alice.token })).status).toBe(200);
    expect((await call(a.app, "GET", "/api/auth/me", { token: bob.token })).status).toBe(200);
    await a.temporal.schedule.getHandle(alice.scheduleId).describe();
    for (const u of [alice, bob]) {
      await call(a.app, "DELETE", "/api/auth/me", { token: u.token, body: { password: u.password } });
    }
  });

  it("deletes the account and all it owns, in Temporal too; its token stops on every API process at once", async () => {
    const alice = await populatedUser("gone");
    const bob = await populatedUser("stays");
    const bobBefore = await counts(a, bob.id);
    await until("the run to wait for approval", async () => {
      const [row] = await a.sql`SELECT status FROM workflow_runs WHERE id = ${alice.runId}`;
      return row?.status === "waiting";
    });
    // Both processes have verified (and cached) the token before the delete.
    expect((await call(a.app, "GET", "/api/workflows", { token: alice.token })).status).toBe(200);
    expect((await call(b.app, "GET", "/api/workflows", { token: alice.token })).status).toBe(200);

    const res = await call(a.app, "DELETE", "/api/auth/me", { token: alice.token, body: { password: alice.password } });
    expect(res.status).toBe(204);
    expect(res.headers.get("cache-control")).toBe("no-store");

    // At once, on the other process too: no waiting for a notification or a cache to expire.
    for (const app of [b.app, a.app]) {
      for (const path of ["/api/auth/me", "/api/workflows", `/api/workflows/${alice.workflowId}`, "/api/secrets"]) {
        const after = await call(app, "GET", path, { token: alice.token });
        expect(after.status, path).toBe(401);
      }
      const create = await call(app, "POST", "/api/workflows", { token: alice.token, body: { name: "ghost" } });
      expect(create.status).toBe(401);
    }
    const login = await call(b.app, "POST", "/api/auth/login", {
      body: { email: alice.email, password: alice.password },
    });
    expect(login.status).toBe(401);
    const hook = await a.sql`SELECT 1 FROM workflow_hooks WHERE workflow_id = ${alice.workflowId}`;
    expect(hook).toHaveLength(0);

    expect(await counts(a, alice.id)).toEqual({
      users: 0,
      workflows: 0,
      runs: 0,
      secrets: 0,
      schedules: 0,
      collections: 0,
      hooks: 0,
    });
    await expect(a.temporal.schedule.getHandle(alice.scheduleId).describe()).rejects.toBeInstanceOf(
      ScheduleNotFoundError,
    );
    const described = await a.temporal.workflow.getHandle(temporalWorkflowId(alice.runId)).describe();
    expect(described.status.name).toBe("TERMINATED");

    // The other tenant is untouched, in the database and in Temporal.
    expect(await counts(a, bob.id)).toEqual(bobBefore);
    expect((await call(b.app, "GET", `/api/workflows/${bob.workflowId}`, { token: bob.token })).status).toBe(200);
    await a.temporal.schedule.getHandle(bob.scheduleId).describe();
    const bobRun = await a.temporal.workflow.getHandle(temporalWorkflowId(bob.runId)).describe();
    expect(bobRun.status.name).toBe("RUNNING");
    await a.temporal.workflow.getHandle(temporalWorkflowId(bob.runId)).terminate("test cleanup");
    await call(a.app, "DELETE", "/api/auth/me", { token: bob.token, body: { password: bob.password } });
  });
});

describe("token issue time", () => {
  const key = new TextEncoder().encode(TEST_JWT_SECRET);
  const signed = (sub: string, email: string, iat: number) =>
    new SignJWT({ email }).setProtectedHeader({ alg: "HS256" }).setSubject(sub).setIssuer("weft")
      .setAudience("weft-api").setIssuedAt(iat).setExpirationTime(iat + 3600).sign(key);

  it("refuses a token issued in the future, however valid its signature", async () => {
    const user = await registerUser(a.app, "iat");
    const now = Math.floor(Date.now() / 1000);
    expect((await call(a.app, "GET", "/api/auth/me", { token: await signed(user.id, user.email, now) })).status)
      .toBe(200);
    for (const ahead of [3600, 86400 * 365]) {
      const res = await call(a.app, "GET", "/api/auth/me", { token: await signed(user.id, user.email, now + ahead) });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe("UNAUTHORIZED");
    }
  });
});

describe("bcrypt's 72-byte limit", () => {
  it("a login whose 73rd byte differs fails; so does every longer variant", async () => {
    const email = `bytes-${Date.now()}@example.com`;
    const password = `${"p".repeat(71)}q`; // exactly 72 bytes
    expect((await call(a.app, "POST", "/api/auth/register", { body: { email, password } })).status).toBe(201);
    const login = (pw: string) => call(a.app, "POST", "/api/auth/login", { body: { email, password: pw } });
    expect((await login(password)).status).toBe(200);
    for (const attempt of [`${password}X`, password.slice(0, 71)]) {
      const res = await login(attempt);
      expect(res.status).toBe(401);
      expect(res.body.access_token).toBeUndefined();
    }
    // Multi-byte characters count in bytes: 37 two-byte characters are 74 bytes, refused at registration.
    const wide = await call(a.app, "POST", "/api/auth/register", {
      body: { email: `wide-${Date.now()}@example.com`, password: "é".repeat(37) },
    });
    expect(wide.status).toBe(400);
  });
});

describe("login throttling", () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await setupApp({
      LOGIN_MAX_FAILURES_PER_ACCOUNT: "3",
      LOGIN_MAX_FAILURES_PER_ADDRESS: "5",
      WEFT_TRUSTED_PROXY_HOPS: "1",
    });
  });
  const login = (email: string, password: string, address: string) =>
    call(t.app, "POST", "/api/auth/login", { body: { email, password }, headers: { "x-forwarded-for": address } });
  // Users are registered through `a`, whose limits are the test stack's: only these requests are throttled here.
  const address = () => `198.51.100.${Math.floor(Math.random() * 250) + 1}`;

  it("per account: after the limit even the right password is refused (429 + Retry-After), from any address", async () => {
    const victim = await registerUser(a.app, "throttled");
    const [hashBefore] = await t.sql`SELECT password_hash FROM users WHERE id = ${victim.id}`;
    const attacker = address();
    for (let i = 0; i < 3; i++) expect((await login(victim.email, `guess-${i}-xx`, attacker)).status).toBe(401);
    const limited = await login(victim.email, victim.password, attacker);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("RATE_LIMITED");
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect(limited.body.access_token).toBeUndefined();
    // The limit is the account's, so switching addresses does not help, and the email's case does not either.
    const elsewhere = await login(
      victim.email.toUpperCase(),
      victim.password,
      `203.0.113.${Math.ceil(Math.random() * 250)}`,
    );
    expect(elsewhere.status).toBe(429);
    const [hashAfter] = await t.sql`SELECT password_hash FROM users WHERE id = ${victim.id}`;
    expect(hashAfter).toEqual(hashBefore);
    // An existing token is not a session the throttle ends.
    expect((await call(t.app, "GET", "/api/auth/me", { token: victim.token })).status).toBe(200);
  });

  it("per address: spraying many accounts from one address is stopped; others are not", async () => {
    const sprayer = address();
    const target = await registerUser(a.app, "sprayed");
    for (let i = 0; i < 5; i++) {
      expect((await login(`nobody-${i}-${Date.now()}@example.com`, "password1", sprayer)).status).toBe(401);
    }
    const limited = await login(target.email, target.password, sprayer);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await login(target.email, target.password, `192.0.2.${Math.ceil(Math.random() * 250)}`)).status)
      .toBe(200);
  });

  it("successful logins do not count: a user may log in more often than the failure limit", async () => {
    const user = await registerUser(a.app, "frequent");
    const from = address();
    for (let i = 0; i < 4; i++) expect((await login(user.email, user.password, from)).status).toBe(200);
  });

  it("parallel guesses cannot slip past the limit", async () => {
    const victim = await registerUser(a.app, "parallel");
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => login(victim.email, `parallel-guess-${i}`, address())),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(3);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(5);
  });
});
