/** Hostile input: NUL characters and deep nesting anywhere are clear 400s, never 500s, and change nothing. */
import { beforeAll, describe, expect, it } from "vitest";
import { buildWorkflow, call } from "../test/helpers.ts";
import { useApiHarness } from "../test/harness.ts";
import { MAX_JSON_DEPTH } from "./input-guard.ts";

let workflowId: string;
let hookToken: string;
const t = useApiHarness({ names: ["input", "bob"] });
beforeAll(async () => {
  ({ workflowId } = await buildWorkflow(t.app, t.alice.token, [{ name: "a", config: { url: "http://127.0.0.1:9/" } }]));
  hookToken = (await call(t.app, "POST", `/api/workflows/${workflowId}/hook`, { token: t.alice.token })).body.token;
});

const snapshot = async () => {
  const [row] = await t.sql`SELECT
    (SELECT count(*)::int FROM workflows WHERE owner_id = ${t.alice.id}) AS workflows,
    (SELECT count(*)::int FROM nodes n JOIN workflows w ON w.id = n.workflow_id WHERE w.owner_id = ${t.alice.id}) AS nodes,
    (SELECT count(*)::int FROM workflow_runs WHERE owner_id = ${t.alice.id}) AS runs,
    (SELECT count(*)::int FROM secrets WHERE owner_id = ${t.alice.id}) AS secrets,
    (SELECT max(updated_at) FROM workflows WHERE owner_id = ${t.alice.id}) AS updated`;
  return row;
};

const nested = (depth: number) => {
  let value: unknown = "leaf";
  for (let i = 1; i < depth; i++) value = i % 2 ? [value] : { k: value };
  return value;
};

function expect400(res: { status: number; body: { error?: { code: string; message: string } } }, what: RegExp) {
  expect(res.status).toBe(400);
  // A NUL character names its field (VALIDATION_ERROR); a path, query or depth problem is a plain BAD_REQUEST.
  expect(["BAD_REQUEST", "VALIDATION_ERROR"]).toContain(res.body.error?.code);
  expect(res.body.error?.message).toMatch(what);
}

describe("NUL characters", () => {
  it("in a JSON string, a key, a nested value or an escaped form: 400 on every route, nothing stored", async () => {
    const before = await snapshot();
    const nodes = `/api/workflows/${workflowId}/nodes`;
    const attempts: [string, string, unknown][] = [
      ["POST", "/api/workflows", { name: "a\u0000b" }],
      ["PATCH", `/api/workflows/${workflowId}`, { description: "x\u0000" }],
      ["POST", nodes, { name: "n", type: "http_request", config: { url: "http://127.0.0.1:9/\u0000" } }],
      ["POST", nodes, { name: "n", type: "http_request", config: { url: "http://x/", headers: { "a\u0000": "b" } } }],
      ["POST", nodes, {
        name: "n",
        type: "http_request",
        config: { url: "http://x/", body: [[{ deep: ["\u0000"] }]] },
      }],
      ["POST", `/api/workflows/${workflowId}/execute`, { input: { text: "\u0000" } }],
      ["POST", "/api/secrets", { name: "N", value: "a\u0000" }],
      ["POST", "/api/auth/login", { email: "a\u0000@example.com", password: "whatever1" }],
      ["POST", "/api/auth/register", { email: "nul@example.com", password: "pass\u0000word" }],
    ];
    for (const [method, path, body] of attempts) {
      expect400(await call(t.app, method, path, { token: t.alice.token, body }), /NUL/);
    }
    // The escape as the attacker would type it on the wire, and as a raw byte.
    const raw = '{"name":"x\\u0000y"}';
    expect400(await call(t.app, "POST", "/api/workflows", { token: t.alice.token, rawBody: raw }), /NUL/);
    // A raw NUL byte is not even JSON (control characters must be escaped).
    expect400(
      await call(t.app, "POST", "/api/workflows", { token: t.alice.token, rawBody: '{"name":"x\0y"}' }),
      /JSON/,
    );
    // A webhook is public: its body is checked the same way before a run starts.
    expect400(await call(t.app, "POST", `/api/hooks/${hookToken}`, { body: { payload: "\u0000" } }), /NUL/);
    expect(await snapshot()).toEqual(before);
  });

  it("in the path or the query: 400, not 500", async () => {
    const before = await snapshot();
    for (
      const path of [
        `/api/workflows/${workflowId}%00`,
        "/api/workflows?limit=5%00",
        "/api/workflows?x%00=1",
        "/api/secrets/N%00",
        `/api/hooks/${hookToken}%00`,
        `/api/workflows/${workflowId}/runs?status=%00`,
      ]
    ) {
      const method = path.startsWith("/api/hooks/") ? "POST" : "GET";
      expect400(
        await call(t.app, method, path, { token: t.alice.token, body: method === "POST" ? {} : undefined }),
        /NUL/,
      );
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe("nesting", () => {
  it(`a body nested deeper than ${MAX_JSON_DEPTH} levels is a 400, even 400,000 levels deep`, async () => {
    const before = await snapshot();
    const execute = `/api/workflows/${workflowId}/execute`;
    expect400(
      await call(t.app, "POST", execute, { token: t.alice.token, body: { input: nested(MAX_JSON_DEPTH + 2) } }),
      /nested deeper/,
    );
    // Built as text: JSON.stringify itself would overflow on a value this deep.
    const depth = 400_000; // 800 KB: under the body limit, so the depth is what is refused
    const rawBody = `{"input":${"[".repeat(depth)}${"]".repeat(depth)}}`;
    const deep = await call(t.app, "POST", execute, { token: t.alice.token, rawBody });
    expect(deep.status).toBeGreaterThanOrEqual(400);
    expect(deep.status).toBeLessThan(500);
    expect(await snapshot()).toEqual(before);
  });

  it("nesting within the bound is accepted", async () => {
    const res = await call(t.app, "POST", `/api/workflows/${workflowId}/nodes`, {
      token: t.alice.token,
      body: { name: "nested", type: "http_request", config: { url: "http://127.0.0.1:9/", body: nested(30) } },
    });
    expect(res.status).toBe(201);
  });
});
