import { describe, expect, it } from "vitest";
import { loadConfig } from "../config.ts";
import { temporalHttpTarget } from "./address.ts";

const JWT_SECRET = "a-test-secret-that-is-long-enough-0123456789";
const target = (env: Record<string, string>) => temporalHttpTarget(loadConfig({ JWT_SECRET, ...env }));

describe("the address of Temporal's HTTP API", () => {
  it("defaults to the gRPC address's host at its port + 10, as Temporal pairs them", () => {
    expect(target({})).toEqual({ url: "http://127.0.0.1:7243", tls: false });
    expect(target({ TEMPORAL_ADDRESS: "temporal-frontend.temporal:7233" }).url).toBe(
      "http://temporal-frontend.temporal:7243",
    );
  });

  it("takes host:port or a URL (with a path prefix), and an empty value as unset", () => {
    expect(target({ TEMPORAL_HTTP_ADDRESS: "temporal:8080" }).url).toBe("http://temporal:8080");
    expect(target({ TEMPORAL_HTTP_ADDRESS: "https://gw.example.com/temporal/" }).url).toBe(
      "https://gw.example.com/temporal",
    );
    expect(target({ TEMPORAL_HTTP_ADDRESS: "" }).url).toBe("http://127.0.0.1:7243");
  });

  it("is https when a TLS setting or an API key is given; an http:// URL then is a configuration error", () => {
    expect(target({ TEMPORAL_API_KEY: "k", TEMPORAL_HTTP_ADDRESS: "ns.acct.tmprl.cloud:7243" })).toEqual({
      url: "https://ns.acct.tmprl.cloud:7243",
      tls: true,
    });
    expect(target({ TEMPORAL_TLS: "true" }).url).toBe("https://127.0.0.1:7243");
    expect(() => loadConfig({ JWT_SECRET, TEMPORAL_TLS: "true", TEMPORAL_HTTP_ADDRESS: "http://t:7243" })).toThrow(
      /TEMPORAL_HTTP_ADDRESS: http:\/\/ while TLS settings/,
    );
    expect(() => loadConfig({ JWT_SECRET, TEMPORAL_HTTP_ADDRESS: "ftp://t:7243" })).toThrow(/TEMPORAL_HTTP_ADDRESS/);
    expect(() => loadConfig({ JWT_SECRET, TEMPORAL_ADDRESS: "temporal" })).toThrow(
      /TEMPORAL_HTTP_ADDRESS: required when TEMPORAL_ADDRESS has no port/,
    );
  });

  it("names the server in the URL and connects to the address when TEMPORAL_TLS_SERVER_NAME is set", () => {
    expect(target({ TEMPORAL_ADDRESS: "10.0.0.5:7233", TEMPORAL_TLS_SERVER_NAME: "temporal.internal" })).toEqual({
      url: "https://temporal.internal:7243",
      connectTo: { hostname: "10.0.0.5", port: 7243 },
      tls: true,
    });
  });
});
