/** Response headers on every kind of answer, and webhook tokens kept out of every log line. */
import { describe, expect, it } from "vitest";
import { buildWorkflow, call, testApiConfig } from "../test/helpers.ts";
import { useApiHarness } from "../test/harness.ts";
import { createApp } from "./app.ts";
import type { LogFields, Logger } from "./logger.ts";

const t = useApiHarness({ names: ["headers", "bob"] });

describe("security headers", () => {
  it("nosniff on every answer: success, 401, 404, 400 and 413", async () => {
    const answers = [
      await call(t.app, "GET", "/api/workflows", { token: t.alice.token }),
      await call(t.app, "GET", "/api/workflows"),
      await call(t.app, "GET", "/api/nothing-here", { token: t.alice.token }),
      await call(t.app, "POST", "/api/workflows", { token: t.alice.token, rawBody: "{" }),
      await call(t.app, "POST", "/api/workflows", { token: t.alice.token, rawBody: `"${"x".repeat(1_100_000)}"` }),
      await call(t.app, "GET", "/healthz"),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 401, 404, 400, 413, 200]);
    for (const res of answers) expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("auth answers are never cached: login (good and bad), register, me, with or without a token", async () => {
    const answers = [
      await call(t.app, "POST", "/api/auth/login", { body: { email: t.alice.email, password: t.alice.password } }),
      await call(t.app, "POST", "/api/auth/login", { body: { email: t.alice.email, password: "not it at all" } }),
      await call(t.app, "POST", "/api/auth/register", { body: { email: "bad" } }),
      await call(t.app, "GET", "/api/auth/me", { token: t.alice.token }),
      await call(t.app, "GET", "/api/auth/me"),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 401, 400, 200, 401]);
    for (const res of answers) expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("the docs page carries a Content-Security-Policy that forbids framing and foreign connections", async () => {
    const res = await call(t.app, "GET", "/docs");
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });
});

describe("webhook tokens in logs", () => {
  it("no log line of any level holds the token, whatever the hook answers", async () => {
    const lines: string[] = [];
    const capture = (base: LogFields): Logger => {
      const write = (level: string) => (msg: string, fields?: LogFields) =>
        lines.push(JSON.stringify({ level, msg, ...base, ...fields }));
      return {
        info: write("info"),
        warn: write("warn"),
        error: write("error"),
        child: (f) => capture({ ...base, ...f }),
      };
    };
    const config = testApiConfig({ WEFT_READ_CACHE: "false", LOG_REQUESTS: "true" });
    const app = createApp({ config, sql: t.sql, temporal: t.temporalHttp, logger: capture({}) });
    const { workflowId } = await buildWorkflow(app, t.alice.token, [{
      name: "a",
      config: { url: "http://127.0.0.1:9/" },
    }]);
    const token = (await call(app, "POST", `/api/workflows/${workflowId}/hook`, { token: t.alice.token })).body.token;
    expect(token).toMatch(/.{20,}/);
    const guessed = `${token.slice(0, -4)}abcd`;
    const answers = [
      await call(app, "POST", `/api/hooks/${token}`, { body: { n: 1 } }),
      await call(app, "POST", `/api/hooks/${token}?q=1`, { rawBody: "{not json" }),
      await call(app, "POST", `/api/hooks/${token}`, { body: { n: "\u0000" } }),
      await call(app, "GET", `/api/hooks/${token}`),
      await call(app, "POST", `/api/hooks/${guessed}`, { body: {} }),
      await call(app, "POST", `/api/hooks//${token}`, { body: {} }),
      await call(app, "POST", `/api/HOOKS/${token}`, { body: {} }),
    ];
    expect(answers[0].status).toBe(202);
    expect(answers.slice(1).every((r) => r.status >= 400 && r.status < 500)).toBe(true);
    const requestLines = lines.filter((l) => l.includes('"msg":"request"'));
    expect(requestLines.length).toBeGreaterThanOrEqual(answers.length);
    expect(requestLines.some((l) => l.includes("/api/hooks/[redacted]"))).toBe(true);
    for (const line of lines) {
      expect(line).not.toContain(token);
      expect(line).not.toContain(guessed);
      expect(line).not.toContain(token.slice(0, 16));
    }
  });
});
