import { describe, expect, it } from "vitest";
import { loadConfig } from "../api/config.ts";
import { loadWorkerConfig } from "../worker/config.ts";
import { temporalTlsOptions } from "./temporal-connection.ts";

const JWT_SECRET = "a-test-secret-that-is-long-enough-0123456789";
const read = (path: string) => `contents of ${path}`;

describe("Temporal connection settings", () => {
  it("adds nothing to the connection when no TLS setting is given: plaintext, as before", () => {
    expect(temporalTlsOptions(loadConfig({ JWT_SECRET }), read)).toEqual({});
    expect(temporalTlsOptions(loadWorkerConfig({}), read)).toEqual({});
  });

  it("treats empty values (a ConfigMap's blanks) as unset", () => {
    const blank = {
      TEMPORAL_TLS: "",
      TEMPORAL_TLS_CERT: "",
      TEMPORAL_TLS_KEY: "",
      TEMPORAL_TLS_CA: "",
      TEMPORAL_TLS_SERVER_NAME: "",
      TEMPORAL_API_KEY: "",
      TEMPORAL_METRICS_PORT: "",
    };
    expect(temporalTlsOptions(loadConfig({ JWT_SECRET, ...blank }), read)).toEqual({});
    const worker = loadWorkerConfig(blank);
    expect(temporalTlsOptions(worker, read)).toEqual({});
    expect(worker.TEMPORAL_METRICS_PORT).toBeUndefined();
  });

  it("reads the client pair and the CA from the mounted files for mTLS", () => {
    const config = loadWorkerConfig({
      TEMPORAL_TLS_CERT: "/etc/temporal-tls/tls.crt",
      TEMPORAL_TLS_KEY: "/etc/temporal-tls/tls.key",
      TEMPORAL_TLS_CA: "/etc/temporal-tls/ca.crt",
      TEMPORAL_TLS_SERVER_NAME: "temporal.internal",
    });
    expect(temporalTlsOptions(config, read)).toEqual({
      tls: {
        clientCertPair: { crt: "contents of /etc/temporal-tls/tls.crt", key: "contents of /etc/temporal-tls/tls.key" },
        serverRootCACertificate: "contents of /etc/temporal-tls/ca.crt",
        serverNameOverride: "temporal.internal",
      },
    });
  });

  it("uses the system's roots with TEMPORAL_TLS alone, and an API key on its own (the SDK then turns TLS on)", () => {
    expect(temporalTlsOptions(loadWorkerConfig({ TEMPORAL_TLS: "true" }), read)).toEqual({ tls: {} });
    expect(temporalTlsOptions(loadConfig({ JWT_SECRET, TEMPORAL_API_KEY: "k" }), read)).toEqual({ apiKey: "k" });
  });

  it("refuses a client certificate without its key, naming both", () => {
    expect(() => loadWorkerConfig({ TEMPORAL_TLS_CERT: "/c.pem" })).toThrow(/TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY/);
    expect(() => loadConfig({ JWT_SECRET, TEMPORAL_TLS_KEY: "/k.pem" })).toThrow(/must be set together/);
  });

  it("keeps the worker's drain at 30 s unless told otherwise, and serves health on 9464", () => {
    const config = loadWorkerConfig({});
    expect(config.WORKER_SHUTDOWN_GRACE_SECONDS).toBe(30);
    expect(config.WORKER_METRICS_PORT).toBe(9464);
  });
});
