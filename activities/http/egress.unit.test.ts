/** SSRF suite: every denied range and odd spelling is blocked before connecting; allowed hosts work. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { controlPlaneRules } from "./control-plane.ts";
import { blockedReason, EgressBlockedError, egressPolicy, resolveChecked, resolvedDenyRules } from "./egress-policy.ts";
import { egressFetch } from "./egress.ts";

let server: Server;
let port: number;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith("/redirect")) {
      res.writeHead(302, { location: new URL(req.url, "http://x").searchParams.get("to")! });
      return res.end();
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok: true, from: req.socket.remoteAddress }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const fakeDns = (table: Record<string, string[]>, calls: string[] = []) => (host: string) => {
  calls.push(host);
  const addresses = table[host];
  if (!addresses) return Promise.reject(Object.assign(new Error(`ENOTFOUND ${host}`), { code: "ENOTFOUND" }));
  return Promise.resolve(addresses.map((address) => ({ address, family: (address.includes(":") ? 6 : 4) as 4 | 6 })));
};

const get = (url: string, policy = egressPolicy("", fakeDns({}))) =>
  egressFetch({
    url: new URL(url),
    method: "GET",
    headers: new Headers(),
    signal: AbortSignal.timeout(5000),
    maxResponseBytes: 1e6,
  }, policy);

describe("SSRF protection (no configuration)", () => {
  const denied = [
    "http://127.0.0.1/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://017700000001/",
    "http://0.0.0.0/",
    "http://0/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://[::1]/",
    "http://[::]/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[fe80::1]/",
    "http://[ff02::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://api.localhost/",
  ];
  for (const url of denied) {
    it(`blocks ${url}`, async () => {
      await expect(get(url)).rejects.toBeInstanceOf(EgressBlockedError);
    });
  }

  for (const url of ["file:///etc/passwd", "ftp://example.com/", "gopher://example.com/", "data:text/plain,hi"]) {
    it(`blocks the ${new URL(url).protocol} scheme`, async () => {
      await expect(get(url)).rejects.toThrow(/only http and https/);
    });
  }

  it("blocks a hostname that resolves to a private address", async () => {
    const policy = egressPolicy("", fakeDns({ "internal.example.com": ["10.1.2.3"] }));
    await expect(get("http://internal.example.com/", policy)).rejects.toThrow(
      /10\.1\.2\.3 is in a denied range \(private\)/,
    );
  });

  it("checks every resolved address, not just the first", async () => {
    const policy = egressPolicy("", fakeDns({ "mixed.example.com": ["93.184.216.34", "127.0.0.1"] }));
    await expect(get("http://mixed.example.com/", policy)).rejects.toThrow(/127\.0\.0\.1.*loopback/);
  });

  it("allows public unicast addresses", () => {
    const policy = egressPolicy("");
    expect(blockedReason("93.184.216.34", 80, policy)).toBeNull();
    expect(blockedReason("2606:2800:220:1:248:1893:25c8:1946", 443, policy)).toBeNull();
    expect(blockedReason("172.32.0.1", 80, policy)).toBeNull(); // just outside 172.16/12
  });
});

describe("SSRF protection with WEFT_EGRESS_ALLOW", () => {
  it("reaches an allowed host, connecting to the very address that was checked", async () => {
    const calls: string[] = [];
    // A rebinding resolver: the first answer is the allowed loopback address, later ones a private address.
    let n = 0;
    const resolve = (host: string) => {
      calls.push(host);
      return Promise.resolve([{ address: n++ === 0 ? "127.0.0.1" : "10.0.0.1", family: 4 as const }]);
    };
    const policy = egressPolicy("127.0.0.1/32", resolve);
    const res = await get(`http://rebind.example:${port}/`, policy);
    expect(res.status).toBe(200);
    expect(JSON.parse(new TextDecoder().decode(res.body)).ok).toBe(true);
    expect(calls).toEqual(["rebind.example"]); // one resolution, used for the connection itself
  });

  it("re-checks every redirect: an allowed server cannot bounce a request to a private address", async () => {
    const policy = egressPolicy("127.0.0.1", fakeDns({ "metadata.internal": ["169.254.169.254"] }));
    await expect(
      get(`http://127.0.0.1:${port}/redirect?to=${encodeURIComponent("http://169.254.169.254/latest/")}`, policy),
    )
      .rejects.toThrow(/169\.254\.169\.254.*linkLocal/);
    await expect(get(`http://127.0.0.1:${port}/redirect?to=${encodeURIComponent("http://metadata.internal/")}`, policy))
      .rejects.toThrow(/denied range/);
    const ok = await get(
      `http://127.0.0.1:${port}/redirect?to=${encodeURIComponent(`http://127.0.0.1:${port}/final`)}`,
      policy,
    );
    expect(ok.url).toBe(`http://127.0.0.1:${port}/final`);
  });

  it("bounds the number of redirects", async () => {
    const policy = egressPolicy("127.0.0.1");
    let url = `http://127.0.0.1:${port}/final`;
    for (let i = 0; i < 7; i++) url = `http://127.0.0.1:${port}/redirect?to=${encodeURIComponent(url)}`;
    await expect(get(url, policy)).rejects.toThrow(/too many redirects/);
  });

  it("allows hosts by name too", async () => {
    const policy = egressPolicy("svc.internal", fakeDns({ "svc.internal": ["127.0.0.1"] }));
    expect((await get(`http://svc.internal:${port}/`, policy)).status).toBe(200);
  });
});

describe("allow entries with ports, and Weft's control plane", () => {
  it("an allow entry with a port or port range allows only those ports", async () => {
    const policy = egressPolicy(`127.0.0.1:${port},10.0.0.0/8:8000-8099,[fd00::/8]:443,svc.internal:9000`);
    expect(blockedReason("127.0.0.1", port, policy)).toBeNull();
    expect(blockedReason("127.0.0.1", port + 1, policy)).toMatch(/loopback/);
    expect(blockedReason("10.2.3.4", 8050, policy)).toBeNull();
    expect(blockedReason("10.2.3.4", 8100, policy)).toMatch(/private/);
    expect(blockedReason("fd00::1", 443, policy)).toBeNull();
    expect(blockedReason("fd00::1", 80, policy)).toMatch(/uniqueLocal/);
    expect(blockedReason("10.9.9.9", 9000, policy, [], "svc.internal")).toBeNull();
    expect(blockedReason("10.9.9.9", 9001, policy, [], "svc.internal")).toMatch(/private/);
    expect((await get(`http://127.0.0.1:${port}/`, policy)).status).toBe(200);
    await expect(get(`http://127.0.0.1:${port + 1}/`, policy)).rejects.toThrow(/loopback/);
  });

  it("rejects malformed entries", () => {
    for (const bad of ["10.0.0.0/33", "host:0", "host:90-80", "host:70000", "a b", "::1:80x"]) {
      expect(() => egressPolicy(bad), bad).toThrow(/egress entry/);
    }
  });

  it("refuses a control-plane port on every local address even when the allow list names it", async () => {
    const deny = controlPlaneRules({
      DATABASE_URL: "postgres://weft@127.0.0.1:5432/weft",
      TEMPORAL_ADDRESS: "localhost:7233",
      WORKER_METRICS_PORT: port,
      WEFT_EGRESS_DENY_EXTRA: "10.0.0.0/8:9999,vault.internal",
    });
    const policy = egressPolicy(
      `127.0.0.0/8,localhost,10.0.0.0/8,vault.internal,::1`,
      fakeDns({ "vault.internal": ["10.3.3.3"], "localhost": ["127.0.0.1", "::1"], "db.alias": ["127.0.0.1"] }),
      deny,
    );
    for (
      const url of [
        `http://127.0.0.1:${port}/metrics`, // the worker's metrics port, though 127.0.0.1 is allowed
        `http://127.0.0.2:${port}/`, // a server on 0.0.0.0 answers on all of 127/8
        `http://[::1]:${port}/`,
        "http://127.0.0.1:5432/",
        "http://db.alias:5432/", // a name resolving to the database's address
        "http://localhost:7233/",
        "http://127.0.0.1:7243/", // Temporal's HTTP API (gRPC + 10)
        "http://127.0.0.1:8233/", // Temporal UI
        "http://127.0.0.1:8000/", // the API
        "http://10.1.1.1:9999/", // WEFT_EGRESS_DENY_EXTRA
        "http://vault.internal/",
      ]
    ) {
      await expect(get(url, policy), url).rejects.toThrow(/Weft's own infrastructure/);
    }
    // Other ports of the same allowed addresses still work.
    expect(blockedReason("127.0.0.1", 5433, policy, await resolvedDenyRules(policy))).toBeNull();
  });

  it("resolves control-plane host names: another name for the same address is refused too", async () => {
    const deny = controlPlaneRules({
      DATABASE_URL: "postgres://weft@pg.internal:5432/weft",
      TEMPORAL_ADDRESS: "temporal.internal:7233",
      WORKER_METRICS_PORT: 9464,
      WEFT_EGRESS_DENY_EXTRA: "",
    });
    const dns = fakeDns({
      "pg.internal": ["10.0.0.5"],
      "temporal.internal": ["10.0.0.6"],
      "evil.example": ["10.0.0.5"],
    });
    const policy = egressPolicy("10.0.0.0/8", dns, deny);
    await expect(resolveChecked("evil.example", 5432, policy)).rejects.toThrow(/PostgreSQL server/);
    await expect(resolveChecked("10.0.0.6", 7243, policy)).rejects.toThrow(/Temporal HTTP API/);
    expect(await resolveChecked("evil.example", 5433, policy)).toEqual([{ address: "10.0.0.5", family: 4 }]);
  });
});
