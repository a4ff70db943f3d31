/** Secrets: write-only, encrypted at rest, resolved only in activities, never recorded anywhere. */
import { beforeAll, describe, expect, it } from "vitest";
import { loadMasterKeys, openSecret } from "../../core/secrets-crypto.ts";
import { rotateSecrets } from "../../db/secrets-rotation.ts";
import { TEST_SECRETS_KEY } from "../../test/env.ts";
import { buildWorkflow, call, json, waitForRun } from "../../test/helpers.ts";
import { useApiHarness } from "../../test/harness.ts";
import { runSharedSecurityTests } from "../../test/security-suite.ts";

const SECRET = `sk-live-${crypto.randomUUID()}`;

const t = useApiHarness({
  upstream: (req, body, res) => {
    if (req.url === "/fail") return json(res, 400, { error: `bad token ${req.headers.authorization}` });
    json(res, 200, { auth: req.headers.authorization, body });
  },
});
beforeAll(async () => {
  // The upstream echoes what it received, as careless services do.
});

const secrets = (method: string, path: string, body?: unknown, token = t.alice.token) =>
  call(t.app, method, `/api/secrets${path}`, { token, body });

describe("secrets API", () => {
  it("stores values encrypted and never returns them", async () => {
    const created = await secrets("POST", "", { name: "API_TOKEN", value: SECRET });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ name: "API_TOKEN", created_at: expect.any(String), updated_at: expect.any(String) });
    expect((await secrets("POST", "", { name: "API_TOKEN", value: "x" })).status).toBe(409);
    const list = await secrets("GET", "");
    expect(list.body.items.map((s: { name: string }) => s.name)).toEqual(["API_TOKEN"]);
    expect(JSON.stringify(list.body)).not.toContain(SECRET);
    const [row] = await t
      .sql`SELECT ciphertext, iv, key_id FROM secrets WHERE owner_id = ${t.alice.id} AND name = 'API_TOKEN'`;
    expect(Buffer.from(row.ciphertext as Uint8Array).toString("latin1")).not.toContain(SECRET);
    expect((row.iv as Uint8Array).length).toBe(12);
  });

  it("updates, deletes, validates names, and keeps users apart", async () => {
    await secrets("POST", "", { name: "TEMP", value: "one" });
    expect((await secrets("PUT", "/TEMP", { value: "two" })).status).toBe(200);
    expect((await secrets("PUT", "/TEMP", { value: "x" }, t.bob.token)).status).toBe(404);
    expect((await secrets("DELETE", "/TEMP", undefined, t.bob.token)).status).toBe(404);
    expect((await secrets("GET", "", undefined, t.bob.token)).body.items).toEqual([]);
    expect((await secrets("DELETE", "/TEMP")).status).toBe(204);
    expect((await secrets("POST", "", { name: "has-dash", value: "v" })).status).toBe(400);
    expect((await secrets("POST", "", { name: "OK", value: "" })).status).toBe(400);
    expect((await call(t.app, "GET", "/api/secrets")).status).toBe(401);
  });
});

describe("secrets in runs", () => {
  it("are resolved inside the activity and redacted from inputs, outputs, errors and Temporal history", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [
      {
        name: "call",
        config: {
          method: "POST",
          url: `${t.upstream.url}/echo`,
          headers: { authorization: "Bearer {{secrets.API_TOKEN}}" },
          body: { k: "{{secrets.API_TOKEN}}" },
        },
      },
    ]);
    const started =
      (await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, { token: t.alice.token, body: { input: {} } }))
        .body;
    const run = await waitForRun(t.app, t.alice.token, workflowId, started.run_id);
    expect(run.status).toBe("succeeded");
    expect(t.upstream.requests.at(-1)!.headers.authorization).toBe(`Bearer ${SECRET}`); // the real value went out
    const exec = run.node_executions[0];
    expect(exec.input.headers.authorization).toBe("Bearer ***");
    expect(exec.output.body.auth).toBe("Bearer ***");
    expect(JSON.stringify(run)).not.toContain(SECRET);
    const history = await t.temporal.workflow.getHandle(started.temporal.workflow_id).fetchHistory();
    expect(JSON.stringify(history)).not.toContain(SECRET);
    const [rows] = await t
      .sql`SELECT count(*)::int AS n FROM node_executions WHERE run_id = ${started.run_id} AND (input::text LIKE ${
      "%" + SECRET + "%"
    } OR output::text LIKE ${"%" + SECRET + "%"})`;
    expect(rows.n).toBe(0);

    const failing = await buildWorkflow(t.app, t.alice.token, [
      { name: "bad", config: { url: `${t.upstream.url}/fail`, headers: { authorization: "{{secrets.API_TOKEN}}" } } },
    ]);
    const f = (await call(t.app, "POST", `/api/workflows/${failing.workflowId}/execute`, {
      token: t.alice.token,
      body: { input: {} },
    })).body;
    const failed = await waitForRun(t.app, t.alice.token, failing.workflowId, f.run_id);
    expect(failed.status).toBe("failed");
    expect(failed.error.message).toContain("bad token ***");
    expect(JSON.stringify(failed)).not.toContain(SECRET);
    expect(JSON.stringify(await t.temporal.workflow.getHandle(f.temporal.workflow_id).fetchHistory())).not.toContain(
      SECRET,
    );
  });

  it("a missing secret fails the node without retry; another user's secret is not visible", async () => {
    const { workflowId } = await buildWorkflow(t.app, t.bob.token, [
      { name: "call", config: { url: `${t.upstream.url}/echo`, headers: { authorization: "{{secrets.API_TOKEN}}" } } },
    ]);
    const started =
      (await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, { token: t.bob.token, body: { input: {} } }))
        .body;
    const run = await waitForRun(t.app, t.bob.token, workflowId, started.run_id);
    expect(run.status).toBe("failed");
    expect(run.node_executions[0].error).toMatchObject({ type: "SecretNotFound", retryable: false });
  });
});

describe("master key rotation", () => {
  it("re-encrypts every secret under the new key; the old key is then no longer needed", async () => {
    const newKey = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
    const rotating = await loadMasterKeys(newKey, TEST_SECRETS_KEY);
    const changed = await rotateSecrets(t.sql, rotating);
    expect(changed).toBeGreaterThan(0);
    const onlyNew = await loadMasterKeys(newKey);
    const rows = await t.sql`SELECT owner_id, name, key_id, iv, ciphertext FROM secrets WHERE owner_id = ${t.alice.id}`;
    for (const r of rows) {
      expect(r.key_id).toBe(onlyNew.current.id);
      const value = await openSecret(onlyNew, r.owner_id as string, r.name as string, r as never);
      if (r.name === "API_TOKEN") expect(value).toBe(SECRET);
    }
    // Put them back under the test key for the worker.
    await rotateSecrets(t.sql, await loadMasterKeys(TEST_SECRETS_KEY, newKey));
  });
});

runSharedSecurityTests(
  t,
  "a secret",
  async (owner) => {
    expect((await secrets("POST", "", { name: "OWNED", value: "v" }, owner.token)).status).toBe(201);
    return "OWNED";
  },
  [
    { method: "PUT", path: (name) => `/api/secrets/${name}`, body: { value: "stolen" } },
    { method: "DELETE", path: (name) => `/api/secrets/${name}` },
  ],
);
