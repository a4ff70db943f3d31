/**
 * Temporal over mutual TLS, as the manifests configure it (PEM files mounted from a Secret): a TLS front that
 * demands a client certificate signed by a test CA stands before the test's Temporal dev server, and the API's
 * client and a real worker process connect through it with TEMPORAL_TLS_* alone.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, connect as tcpConnect, createServer as createTcpServer } from "node:net";
import { createServer as createTlsServer, type Server, type TLSSocket } from "node:tls";
import { Connection } from "@temporalio/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../api/config.ts";
import { temporalTlsOptions } from "../core/temporal-connection.ts";
import { TEST_JWT_SECRET, TEST_TEMPORAL_PORT } from "../test/env.ts";
import { startWorker } from "../test/processes.ts";

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
      ["server", SERVER_NAME, `subjectAltName=DNS:${SERVER_NAME}\nextendedKeyUsage=serverAuth\n`],
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

describe.skipIf(!hasOpenssl)("Temporal over mTLS", () => {
  let front: Server;
  let address = "";
  const clients: string[] = [];
  let tlsEnv: Record<string, string> = {};

  beforeAll(async () => {
    makeCertificates();
    // gRPC over TLS (ALPN h2) in front, plaintext to the dev server behind.
    front = createTlsServer({
      key: readFileSync(`${DIR}/server.key`),
      cert: readFileSync(`${DIR}/server.crt`),
      ca: readFileSync(`${DIR}/ca.crt`),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ["h2"],
    }, (socket: TLSSocket) => {
      clients.push(String(socket.getPeerCertificate().subject?.CN));
      const upstream = tcpConnect(TEST_TEMPORAL_PORT, "127.0.0.1");
      socket.pipe(upstream).pipe(socket);
      socket.on("error", () => upstream.destroy());
      upstream.on("error", () => socket.destroy());
    }).listen(0, "127.0.0.1");
    await new Promise((resolve) => front.once("listening", resolve));
    address = `127.0.0.1:${(front.address() as AddressInfo).port}`;
    tlsEnv = {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TLS_CERT: `${DIR}/client.crt`,
      TEMPORAL_TLS_KEY: `${DIR}/client.key`,
      TEMPORAL_TLS_CA: `${DIR}/ca.crt`,
      TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
    };
  });

  afterAll(() => {
    front?.close();
    rmSync(DIR, { recursive: true, force: true });
  });

  it("connects the API's client with the mounted certificate, key and CA", async () => {
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

  it("runs a worker process through it, healthy once it polls", async () => {
    const port = await freePort();
    const worker = await startWorker(`weft-mtls-${process.pid}`, {
      ...tlsEnv,
      WEFT_WORKER_QUEUES: "cpu",
      WORKER_METRICS_PORT: String(port),
    });
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(await res.json()).toEqual({ status: "ok", state: "RUNNING" });
      expect(clients.filter((c) => c === "weft-client").length).toBeGreaterThanOrEqual(2);
    } finally {
      await worker.stop();
    }
  });
});
