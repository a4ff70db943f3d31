import type { AddressInfo } from "node:net";
import type { State } from "@temporalio/worker";
import { afterEach, describe, expect, it } from "vitest";
import { serveWorkerHealth } from "./health.ts";

const servers: { close: () => void }[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

async function serve(state: { value: State }, port = 0) {
  const warnings: unknown[] = [];
  const server = serveWorkerHealth({ getState: () => state.value }, {
    port,
    host: "127.0.0.1",
    labels: { task_queue: "q" },
    warn: (msg, fields) => warnings.push({ msg, ...fields }),
  });
  servers.push(server);
  // The server reports a taken port through `warn`; wait for either outcome.
  await new Promise((resolve) => server.once("listening", resolve).once("error", resolve));
  return {
    server,
    warnings,
    url: server.listening ? `http://127.0.0.1:${(server.address() as AddressInfo).port}` : "",
  };
}

describe("worker health server", () => {
  it("answers /healthz 200 only while the Temporal worker runs", async () => {
    const state = { value: "INITIALIZED" as State };
    const { url } = await serve(state);
    expect((await fetch(`${url}/healthz`)).status).toBe(503);
    state.value = "RUNNING";
    const ok = await fetch(`${url}/healthz`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: "ok", state: "RUNNING" });
    state.value = "DRAINING";
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: "unavailable", state: "DRAINING" });
  });

  it("serves Prometheus metrics: process defaults and the worker's state", async () => {
    const { url } = await serve({ value: "RUNNING" });
    const res = await fetch(`${url}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const body = await res.text();
    expect(body).toContain('weft_worker_state{state="RUNNING",task_queue="q"} 1');
    expect(body).toContain('weft_worker_state{state="STOPPED",task_queue="q"} 0');
    expect(body).toMatch(/^process_resident_memory_bytes\{task_queue="q"\} \d+/m);
  });

  it("answers other paths 404 and other methods 405", async () => {
    const { url } = await serve({ value: "RUNNING" });
    expect((await fetch(`${url}/`)).status).toBe(404);
    expect((await fetch(`${url}/healthz`, { method: "POST" })).status).toBe(405);
  });

  it("warns instead of failing when its port is taken", async () => {
    const first = await serve({ value: "RUNNING" });
    const port = (first.server.address() as AddressInfo).port;
    const second = await serve({ value: "RUNNING" }, port);
    expect(second.server.listening).toBe(false);
    expect(second.warnings).toEqual([expect.objectContaining({ msg: "health server unavailable", port })]);
  });
});
