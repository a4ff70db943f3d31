/**
 * Decoding is per tenant (issue 10, property 4): each user's payloads are sealed under their own data key, the
 * codec endpoint decodes only the caller's, and failure messages reach Temporal encoded.
 */
import { Client, Connection } from "@temporalio/client";
import type { Payload } from "@temporalio/common";
import { describe, expect, it } from "vitest";
import { EncryptionCodec, TenantCodec } from "../core/payload-codec.ts";
import { loadMasterKeys } from "../core/secrets-crypto.ts";
import { Worker } from "@temporalio/worker";
import { existsSync } from "node:fs";
import { SYSTEM_TENANT, weftDataConverter } from "../core/payload-codec.ts";
import { createDataKeys, createTenantOf, exportDataKeys, listedDataKeys, rewrapDataKeys } from "../db/payload-keys.ts";
import { WORKFLOWS_PATH } from "../worker/bundle.ts";
import { TEST_BUNDLE_PATH, TEST_PAYLOAD_KEY, TEST_TASK_QUEUE, TEST_TEMPORAL_ADDRESS } from "../test/env.ts";
import {
  buildWorkflow,
  call,
  type FailureChain,
  json,
  registerUser,
  startUpstream,
  waitForRun,
} from "../test/helpers.ts";
import { type TestUser, useApiHarness } from "../test/harness.ts";

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const text = (b64text: string) => Buffer.from(b64text, "base64").toString("latin1");

/** A run's history as Temporal stores it, read by a client without the codec. */
async function rawHistory(workflowId: string) {
  const connection = await Connection.connect({ address: TEST_TEMPORAL_ADDRESS });
  try {
    const raw = new Client({ connection });
    await raw.workflow.getHandle(workflowId).result().catch(() => {}); // until it closes
    return await raw.workflow.getHandle(workflowId).fetchHistory();
  } finally {
    await connection.close();
  }
}

const historyText = (history: unknown) =>
  JSON.stringify(history, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("latin1") : v));

/** Every payload in a history (inputs, results, encoded failure attributes), in codec-server JSON form. */
function payloadsOf(history: unknown): { metadata: Record<string, string>; data: string }[] {
  const found: Payload[] = [];
  const walk = (v: unknown) => {
    if (!v || typeof v !== "object") return;
    const o = v as Record<string, unknown>;
    if (o.metadata && typeof o.metadata === "object" && o.data instanceof Uint8Array) found.push(o as Payload);
    else Object.values(o).forEach(walk);
  };
  walk(history);
  return found.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata!).map(([k, v]) => [k, b64(v as Uint8Array)])),
    data: b64(p.data!),
  }));
}

async function runOf(user: TestUser, nodes: { name: string; config: Record<string, unknown> }[], input: unknown) {
  const { workflowId } = await buildWorkflow(t.app, user.token, nodes);
  const started = await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, {
    token: user.token,
    body: { input },
  });
  expect(started.status).toBe(202);
  const run = await waitForRun(t.app, user.token, workflowId, started.body.run_id);
  return { run, history: await rawHistory(started.body.temporal.workflow_id) };
}

const t = useApiHarness();

describe("per-tenant payload keys", () => {
  it("user B cannot decode user A's run payloads; A can; a relabelled payload decodes for no one", async () => {
    const upstream = await startUpstream((_req, _body, res) => json(res, 200, { answer: "alice-result-marker" }));
    const { run, history } = await runOf(t.alice, [{ name: "a", config: { url: upstream.url } }], {
      note: "alice-input-marker",
    });
    await upstream.close();
    expect(run.status).toBe("succeeded");
    const raw = historyText(history);
    expect(raw).not.toContain("alice-input-marker");
    expect(raw).not.toContain("alice-result-marker");
    const all = payloadsOf(history);
    const payloads = all.filter((p) => text(p.metadata.encoding) === "binary/encrypted");
    expect(payloads.length).toBeGreaterThan(2);
    // Every sealed payload of the run is Alice's; only search attributes (Temporal reads them) and the SDK's
    // local-activity markers (attempt bookkeeping) are plain, and neither carries the run's data.
    for (const p of payloads) expect(text(p.metadata["weft-tenant"])).toBe(t.alice.id);
    for (const p of all.filter((p) => !payloads.includes(p))) {
      expect(p.metadata.type !== undefined || text(p.data).includes('"activity_type"')).toBe(true);
    }

    const byBob = await call(t.app, "POST", "/api/codec/decode", { token: t.bob.token, body: { payloads } });
    expect(byBob.status).toBe(200);
    expect(byBob.body.payloads).toEqual(payloads); // unchanged: still ciphertext
    expect(byBob.headers.get("x-weft-codec-refused")).toBe(String(payloads.length));

    const byAlice = await call(t.app, "POST", "/api/codec/decode", { token: t.alice.token, body: { payloads } });
    expect(byAlice.status).toBe(200);
    expect(byAlice.headers.get("x-weft-codec-refused")).toBe("0");
    const decoded = byAlice.body.payloads.map((p: { data?: string }) => text(p.data ?? "")).join("\n");
    expect(decoded).toContain("alice-input-marker");
    expect(decoded).toContain("alice-result-marker");

    // Bob relabels a payload as his own: the tenant is bound into the ciphertext, so nothing decodes.
    const relabelled = {
      ...payloads[0],
      metadata: { ...payloads[0].metadata, "weft-tenant": b64(Buffer.from(t.bob.id)) },
    };
    const forged = await call(t.app, "POST", "/api/codec/decode", {
      token: t.bob.token,
      body: { payloads: [relabelled] },
    });
    expect(forged.status).toBe(400);
    expect(JSON.stringify(forged.body)).not.toContain("alice-input-marker");
  });

  it("a team workspace's payloads decode for its members (the UI names no workspace), not for anyone else", async () => {
    const ws =
      (await call(t.app, "POST", "/api/workspaces", { token: t.alice.token, body: { name: "codec" } })).body.id;
    const carol = await registerUser(t.app, "carol");
    await call(t.app, "POST", `/api/workspaces/${ws}/members`, {
      token: t.alice.token,
      body: { email: carol.email, role: "viewer" },
    });
    const upstream = await startUpstream((_req, _body, res) => json(res, 200, { answer: "team-result-marker" }));
    const inTeam = { token: t.alice.token, headers: { "weft-workspace": ws } };
    const wf = (await call(t.app, "POST", "/api/workflows", { ...inTeam, body: { name: "team" } })).body.id;
    await call(t.app, "POST", `/api/workflows/${wf}/nodes`, {
      ...inTeam,
      body: { name: "a", type: "http_request", config: { url: upstream.url } },
    });
    const started = await call(t.app, "POST", `/api/workflows/${wf}/execute`, { ...inTeam, body: { input: {} } });
    const payloads = payloadsOf(await rawHistory(started.body.temporal.workflow_id))
      .filter((p) => p.metadata["weft-tenant"]);
    for (const p of payloads) expect(text(p.metadata["weft-tenant"])).toBe(ws);
    const byCarol = await call(t.app, "POST", "/api/codec/decode", { token: carol.token, body: { payloads } });
    expect(byCarol.headers.get("x-weft-codec-refused")).toBe("0");
    expect(byCarol.body.payloads.map((p: { data?: string }) => text(p.data ?? "")).join("\n"))
      .toContain("team-result-marker");
    const byBob = await call(t.app, "POST", "/api/codec/decode", { token: t.bob.token, body: { payloads } });
    expect(byBob.headers.get("x-weft-codec-refused")).toBe(String(payloads.length));
    // Naming one workspace narrows decoding to it: Carol's personal one holds none of these.
    const narrowed = await call(t.app, "POST", "/api/codec/decode", {
      token: carol.token,
      body: { payloads },
      headers: { "weft-workspace": carol.id },
    });
    expect(narrowed.headers.get("x-weft-codec-refused")).toBe(String(payloads.length));
    await upstream.close();
  });

  it("a history sealed with per-tenant keys replays with the exported data keys (the replay corpus's way)", async () => {
    const upstream = await startUpstream((_req, _body, res) => json(res, 200, { ok: 1 }));
    const { run, history } = await runOf(t.alice, [{ name: "a", config: { url: upstream.url } }], { n: 1 });
    await upstream.close();
    expect(run.status).toBe("succeeded");
    const keys = listedDataKeys(await exportDataKeys(t.sql), await loadMasterKeys(TEST_PAYLOAD_KEY));
    const dataConverter = await weftDataConverter({ WEFT_PAYLOAD_KEY: TEST_PAYLOAD_KEY }, {
      keys,
      tenantOf: () => Promise.resolve(SYSTEM_TENANT),
    });
    const code = existsSync(TEST_BUNDLE_PATH)
      ? { workflowBundle: { codePath: TEST_BUNDLE_PATH } }
      : { workflowsPath: WORKFLOWS_PATH };
    await Worker.runReplayHistory({ ...code, dataConverter }, history, `weft-run-${run.id}`);
  });

  it("encode seals under the caller's tenant only: B's payload is refused to A", async () => {
    const plain = { metadata: { encoding: b64(Buffer.from("json/plain")) }, data: b64(Buffer.from('"bob-only"')) };
    const sealed = await call(t.app, "POST", "/api/codec/encode", { token: t.bob.token, body: { payloads: [plain] } });
    expect(sealed.status).toBe(200);
    expect(text(sealed.body.payloads[0].metadata["weft-tenant"])).toBe(t.bob.id);
    const byAlice = await call(t.app, "POST", "/api/codec/decode", { token: t.alice.token, body: sealed.body });
    expect(byAlice.body.payloads).toEqual(sealed.body.payloads);
    const byBob = await call(t.app, "POST", "/api/codec/decode", { token: t.bob.token, body: sealed.body });
    expect(byBob.body.payloads).toEqual([plain]);
  });

  it("failure messages and stack traces are not plaintext in Temporal's history; the API decodes them", async () => {
    const { run, history } = await runOf(
      t.alice,
      [{ name: "bad", config: { url: "not-a-url-alice-failure-marker" } }],
      {},
    );
    expect(run.status).toBe("failed");
    expect(JSON.stringify(run.error)).toContain("alice-failure-marker"); // Weft's own record still says why
    const raw = historyText(history);
    expect(raw).not.toContain("alice-failure-marker");
    expect(raw).toContain("Encoded failure");
    // The API reads failures through its Temporal client: it decodes the encoded message.
    const failed = await t.temporalHttp.executeWorkflow("runDag", {
      taskQueue: TEST_TASK_QUEUE,
      workflowId: `not-weft-${crypto.randomUUID()}`,
      args: [{ runId: run.id, input: {}, snapshot: { nodes: [], edges: [] } }],
    }).catch((err) => err) as { failure?: FailureChain };
    const messages: string[] = [];
    for (let f = failed.failure; f; f = f.cause) messages.push(f.message);
    expect(messages.join("\n")).toMatch(/may not act for the run/);
    expect(messages).not.toContain("Encoded failure");
  });

  it("rotating the master key re-wraps data keys; payloads sealed before still decode under the new key only", async () => {
    const oldMaster = await loadMasterKeys(TEST_PAYLOAD_KEY);
    const codecOf = async (current: string, old = "") =>
      new TenantCodec(
        await EncryptionCodec.create(current, old),
        createDataKeys(t.sql, await loadMasterKeys(current, old)),
        createTenantOf(t.sql),
      );
    const tenant = `rotation-${crypto.randomUUID()}`;
    const before = await codecOf(TEST_PAYLOAD_KEY);
    const plain = {
      metadata: { encoding: new TextEncoder().encode("json/plain") },
      data: new TextEncoder().encode("42"),
    };
    const [sealed] = await before.encodeFor(tenant, [plain]);

    const NEW_KEY = Buffer.alloc(32, 7).toString("base64");
    const rotating = await loadMasterKeys(NEW_KEY, TEST_PAYLOAD_KEY);
    expect(await rewrapDataKeys(t.sql, rotating, tenant)).toBe(1);
    const [row] = await t.sql`SELECT master_key_id FROM tenant_data_keys WHERE tenant_id = ${tenant}`;
    expect(row.master_key_id).toBe(rotating.current.id);
    expect(row.master_key_id).not.toBe(oldMaster.current.id);
    const after = await codecOf(NEW_KEY); // the old master key is gone
    const [opened] = await after.decode([sealed]);
    expect(new TextDecoder().decode(opened.data!)).toBe("42");
    await rewrapDataKeys(t.sql, await loadMasterKeys(TEST_PAYLOAD_KEY, NEW_KEY), tenant);
  });
});
