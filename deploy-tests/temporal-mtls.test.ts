/**
 * Temporal over mutual TLS, as the manifests configure it (PEM files mounted from a Secret): TLS fronts that
 * demand a client certificate signed by a test CA stand before the test's Temporal dev server — one before its
 * gRPC port for workers, one before its HTTP API for the API — and a real worker process and a real Deno API
 * process connect through them with TEMPORAL_TLS_* alone, then run a workflow together.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, connect as tcpConnect, createServer as createTcpServer } from "node:net";
import { createServer as createTlsServer, type Server, type TLSSocket } from "node:tls";
import { Connection } from "@temporalio/client";
import { ApiClient, waitFor } from "../test/stack.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../api/config.ts";
import { temporalTlsOptions } from "../core/temporal-connection.ts";
import { TEST_JWT_SECRET, TEST_TEMPORAL_HTTP_URL, TEST_TEMPORAL_PORT } from "../test/env.ts";
import { startDenoApi, startWorker } from "../test/processes.ts";

const hasOpenssl = spawnSync("openssl", ["version"]).status === 0;
const DIR = `.state/deploy-tests/mtls-${process.pid}`;
const SERVER_NAME = "temporal.weft.test";

/** A CA, a server certificate for SERVER_NAME and a client certificate (CN weft-client), as PEM files in DIR. */
function makeCertificates() {
  mkdirSync(DIR, { recursive: true });
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: DIR, stdio: "pipe" });
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  ssl("req", "-x509", ...key, "-days", "1", "-subj", "/CN=weft-test-ca", "-keyout", "ca.key", "-out", "ca.crt");
  for (
    const [name, cn, ext] of [
      // localhost too: the API reaches the HTTP front by that name in one test, by SERVER_NAME in another.
      ["server", SERVER_NAME, `subjectAltName=DNS:${SERVER_NAME},DNS:localhost\nextendedKeyUsage=serverAuth\n`],
      ["client", "weft-client", "extendedKeyUsage=clientAuth\n"],
    ]
  ) {
    writeFileSync(`${DIR}/${name}.ext`, ext);
    ssl("req", ...key, "-subj", `/CN=${cn}`, "-keyout", `${name}.key`, "-out", `${name}.csr`);
    const sign = ["-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1"];
    ssl("x509", ...sign, "-extfile", `${name}.ext`, "-out", `${name}.crt`);
  }
}

async function freePort(): Promise<number> {
  const server = createTcpServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A TLS front demanding a client certificate, plaintext to `port` behind; records each client's CN. */
async function tlsFront(port: number, alpn: string, clients: string[]): Promise<{ server: Server; address: string }> {
  const server = createTlsServer({
    key: readFileSync(`${DIR}/server.key`),
    cert: readFileSync(`${DIR}/server.crt`),
    ca: readFileSync(`${DIR}/ca.crt`),
    requestCert: true,
    rejectUnauthorized: true,
    ALPNProtocols: [alpn],
  }, (socket: TLSSocket) => {
    clients.push(String(socket.getPeerCertificate().subject?.CN));
    const upstream = tcpConnect(port, "127.0.0.1");
    socket.pipe(upstream).pipe(socket);
    socket.on("error", () => upstream.destroy());
    upstream.on("error", () => socket.destroy());
  }).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe.skipIf(!hasOpenssl)("Temporal over mTLS", () => {
  let front: Server;
  let httpFront: Server;
  let address = "";
  let httpAddress = "";
  const clients: string[] = [];
  const httpClients: string[] = [];
  let tlsEnv: Record<string, string> = {};

  beforeAll(async () => {
    makeCertificates();
    // gRPC over TLS (ALPN h2) before the gRPC port; HTTP/1.1 over TLS before the HTTP API.
    ({ server: front, address } = await tlsFront(TEST_TEMPORAL_PORT, "h2", clients));
    ({ server: httpFront, address: httpAddress } = await tlsFront(
      Number(new URL(TEST_TEMPORAL_HTTP_URL).port),
      "http/1.1",
      httpClients,
    ));
    tlsEnv = {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_HTTP_ADDRESS: httpAddress,
      TEMPORAL_TLS_CERT: `${DIR}/client.crt`,
      TEMPORAL_TLS_KEY: `${DIR}/client.key`,
      TEMPORAL_TLS_CA: `${DIR}/ca.crt`,
      TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
    };
  });

  afterAll(() => {
    front?.close();
    httpFront?.close();
    rmSync(DIR, { recursive: true, force: true });
  });

  it("connects a gRPC client (as the worker's) with the mounted certificate, key and CA", async () => {
    const config = loadConfig({ JWT_SECRET: TEST_JWT_SECRET, ...tlsEnv });
    const connection = await Connection.connect({
      address: config.TEMPORAL_ADDRESS,
      ...temporalTlsOptions(config, (path) => readFileSync(path)),
    });
    try {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.serverVersion).toBeTruthy();
      expect(clients).toContain("weft-client");
    } finally {
      await connection.close();
    }
  });

  it("is refused without a client certificate", async () => {
    const config = loadConfig({
      JWT_SECRET: TEST_JWT_SECRET,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TLS_CA: tlsEnv.TEMPORAL_TLS_CA,
      TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
    });
    await expect(
      Connection.connect({ address, connectTimeout: 3000, ...temporalTlsOptions(config, (path) => readFileSync(path)) })
        .then((c) => c.workflowService.getSystemInfo({}).finally(() => c.close())),
    ).rejects.toThrow();
  });

  it("runs a worker and the Deno API through them: the API is ready and a run executes end to end", async () => {
    const queue = `weft-mtls-${process.pid}`;
    const [worker, api] = await Promise.all([
      startWorker(queue, { ...tlsEnv, WEFT_WORKER_QUEUES: "cpu", WORKER_METRICS_PORT: String(await freePort()) }),
      freePort().then((port) => startDenoApi(port, queue, { ...tlsEnv, LOG_REQUESTS: "false" })),
    ]);
    try {
      const port = /"port":(\d+)/.exec(api.output())![1];
      const client = new ApiClient(`http://127.0.0.1:${port}`);
      const ready = await client.request("GET", "/readyz");
      expect(ready.body).toMatchObject({ status: "ready", checks: { postgres: "ok", temporal: "ok" } });
      expect(httpClients).toContain("weft-client");
      expect(clients.filter((c) => c === "weft-client").length).toBeGreaterThanOrEqual(2);

      await client.login("mtls");
      const wf = await client.request("POST", "/api/workflows", { name: "over mTLS" });
      const node = await client.request("POST", `/api/workflows/${wf.body.id}/nodes`, {
        name: "shape",
        type: "transform",
        config: { expression: '{"city": $uppercase(input.city)}' },
      });
      expect(node.status).toBe(201);
      const started = await client.execute(wf.body.id, { city: "lima" });
      expect(started.status).toBe(202);
      const run = await client.waitForFinal(wf.body.id, started.body.run_id, 30_000, () => api.output().slice(-2000));
      expect(run).toMatchObject({ status: "succeeded", output: { shape: { city: "LIMA" } } });
    } finally {
      await Promise.all([worker.stop(), api.stop()]);
    }
  });

  it("with the server's own name in TEMPORAL_HTTP_ADDRESS, the Deno API is ready, and not without its certificate", async () => {
    const port = new URL(`https://${httpAddress}`).port;
    const env: Record<string, string> = {
      ...tlsEnv,
      TEMPORAL_HTTP_ADDRESS: `https://localhost:${port}`,
      TEMPORAL_TLS_SERVER_NAME: "",
      LOG_REQUESTS: "false",
    };
    const readiness = async (extra: Record<string, string>) => {
      const api = await startDenoApi(await freePort(), `weft-mtls-${process.pid}`, { ...env, ...extra });
      try {
        const apiPort = /"port":(\d+)/.exec(api.output())![1];
        return await waitFor(
          "an answer",
          () => new ApiClient(`http://127.0.0.1:${apiPort}`).request("GET", "/readyz"),
          5000,
        );
      } finally {
        await api.stop();
      }
    };
    const before = httpClients.length;
    const ready = await readiness({});
    expect(ready.body).toMatchObject({ status: "ready", checks: { postgres: "ok", temporal: "ok" } });
    expect(httpClients.slice(before)).toContain("weft-client");

    const refused = await readiness({ TEMPORAL_TLS_CERT: "", TEMPORAL_TLS_KEY: "" });
    expect(refused.status).toBe(503);
    expect(refused.body.checks).toMatchObject({ postgres: "ok", temporal: expect.stringMatching(/^unavailable/) });
  });
});
