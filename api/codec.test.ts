/** Encrypted Temporal payloads, and the codec server the Temporal UI uses to read them. */
import { Client, Connection } from "@temporalio/client";
import { describe, expect, it } from "vitest";
import { TEST_TEMPORAL_ADDRESS } from "../test/env.ts";
import { buildWorkflow, call, json, startUpstream, waitForRun } from "../test/helpers.ts";
import { useApiHarness } from "../test/harness.ts";

const t = useApiHarness();

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("payload encryption", () => {
  it("Temporal stores only ciphertext for a run's inputs and results", async () => {
    const upstream = await startUpstream((_req, _body, res) => json(res, 200, { answer: "plaintext-result-marker" }));
    const { workflowId } = await buildWorkflow(t.app, t.alice.token, [{ name: "a", config: { url: upstream.url } }]);
    const started = (await call(t.app, "POST", `/api/workflows/${workflowId}/execute`, {
      token: t.alice.token,
      body: { input: { note: "plaintext-input-marker" } },
    })).body;
    expect((await waitForRun(t.app, t.alice.token, workflowId, started.run_id)).status).toBe("succeeded");
    await upstream.close();
    // A client without the key sees what Temporal stores.
    const connection = await Connection.connect({ address: TEST_TEMPORAL_ADDRESS });
    const raw = new Client({ connection });
    await raw.workflow.getHandle(started.temporal.workflow_id).result().catch(() => {}); // wait until it closes
    const history = await raw.workflow.getHandle(started.temporal.workflow_id).fetchHistory();
    await connection.close();
    const text = JSON.stringify(history, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("latin1") : v));
    expect(text).not.toContain("plaintext-input-marker");
    expect(text).not.toContain("plaintext-result-marker");
    const startedEvent = history.events!.find((e) => e.workflowExecutionStartedEventAttributes)!;
    const payload = startedEvent.workflowExecutionStartedEventAttributes!.input!.payloads![0];
    expect(Buffer.from(payload.metadata!.encoding!).toString()).toBe("binary/encrypted");
  });
});

describe("codec server", () => {
  it("encodes and decodes payloads for an authenticated caller", async () => {
    const plain = { metadata: { encoding: b64("json/plain") }, data: b64('{"secret":"visible-to-operators"}') };
    const encoded = await call(t.app, "POST", "/api/codec/encode", {
      token: t.alice.token,
      body: { payloads: [plain] },
    });
    expect(encoded.status).toBe(200);
    expect(Buffer.from(encoded.body.payloads[0].metadata.encoding, "base64").toString()).toBe("binary/encrypted");
    expect(Buffer.from(encoded.body.payloads[0].data, "base64").toString("latin1")).not.toContain("visible");
    const decoded = await call(t.app, "POST", "/api/codec/decode", { token: t.alice.token, body: encoded.body });
    expect(decoded.body.payloads).toEqual([plain]);
    expect((await call(t.app, "POST", "/api/codec/decode", { body: encoded.body })).status).toBe(401);
    const tampered = structuredClone(encoded.body);
    tampered.payloads[0].data = b64("garbage-that-is-not-ciphertext-at-all");
    expect((await call(t.app, "POST", "/api/codec/decode", { token: t.alice.token, body: tampered })).status).toBe(400);
  });

  it("accepts a browser session cookie set from a valid token, for the Temporal UI", async () => {
    const bad = await call(t.app, "GET", "/api/codec/session?token=nope");
    expect(bad.status).toBe(401);
    const ok = await call(t.app, "GET", `/api/codec/session?token=${t.alice.token}`);
    expect(ok.status).toBe(200);
    const cookie = ok.headers.get("set-cookie")!;
    expect(cookie).toMatch(/weft_codec_session=.*HttpOnly/);
    const pair = cookie.split(";")[0];
    const plain = { metadata: { encoding: b64("json/plain") }, data: b64("1") };
    const encoded = await call(t.app, "POST", "/api/codec/encode", {
      headers: { cookie: pair },
      body: { payloads: [plain] },
    });
    expect(encoded.status).toBe(200);
    // The cookie is good for the codec only.
    expect((await call(t.app, "GET", "/api/workflows", { headers: { cookie: pair } })).status).toBe(401);
  });

  it("answers CORS preflights from the Temporal UI's origin only", async () => {
    const preflight = (origin: string) =>
      t.app.request("/api/codec/decode", {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization,content-type,x-namespace",
        },
      });
    const ui = await preflight("http://localhost:8233");
    expect(ui.status).toBe(204);
    expect(ui.headers.get("access-control-allow-origin")).toBe("http://localhost:8233");
    expect(ui.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    const other = await preflight("https://evil.example");
    expect(other.headers.get("access-control-allow-origin")).not.toBe("https://evil.example");
  });
});
