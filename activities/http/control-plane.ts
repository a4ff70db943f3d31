/**
 * The addresses and ports of Weft's own infrastructure, which no node may reach: derived from the process's
 * own settings (where it finds PostgreSQL and Temporal, the ports it serves) plus the operator's
 * WEFT_EGRESS_DENY_EXTRA. A service on a loopback or wildcard address is denied on every address of this
 * machine, because a server bound to 0.0.0.0 answers on all of them (127.0.0.2, the pod IP, …).
 */
import { networkInterfaces } from "node:os";
import ipaddr from "ipaddr.js";
import { z } from "zod";
import { type EgressPolicy, egressPolicy, type EgressRule, parseRule, parseRules } from "./egress-policy.ts";

/** A comma-separated egress list, checked at parse time so a typo stops the worker at start. */
const egressList = z.string().default("").superRefine((v, ctx) => {
  try {
    parseRules(v);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
  }
});
const optionalAddress = z.string().optional().transform((v) => v || undefined);

/** Where nodes may connect besides public addresses, and the addresses of Weft's own services they may not. */
export const egressEnv = {
  /** Hosts/CIDRs (optionally :port or :port-range) nodes may reach besides public addresses. */
  WEFT_EGRESS_ALLOW: egressList,
  /** More of Weft's own infrastructure nodes must never reach, besides what is derived from these settings. */
  WEFT_EGRESS_DENY_EXTRA: egressList,
  /** Temporal's HTTP API and UI (host:port): by default TEMPORAL_ADDRESS's host at port + 10 and 8233. */
  TEMPORAL_HTTP_ADDRESS: optionalAddress,
  TEMPORAL_UI_ADDRESS: optionalAddress,
  /** Where the Weft API listens (host:port); by default 127.0.0.1:8000. */
  WEFT_API_ADDRESS: optionalAddress,
};

export interface ControlPlaneSettings {
  DATABASE_URL: string;
  WEFT_SANDBOX_DATABASE_URL?: string;
  TEMPORAL_ADDRESS: string;
  TEMPORAL_HTTP_ADDRESS?: string;
  TEMPORAL_UI_ADDRESS?: string;
  WEFT_API_ADDRESS?: string;
  WORKER_METRICS_PORT: number;
  TEMPORAL_METRICS_PORT?: number;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  WEFT_EGRESS_DENY_EXTRA: string;
}

/** Every address this machine answers on, with loopback and the wildcard addresses. */
function localCidrs(): [ipaddr.IPv4 | ipaddr.IPv6, number][] {
  const out: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [
    ipaddr.parseCIDR("127.0.0.0/8"),
    ipaddr.parseCIDR("0.0.0.0/8"),
    ipaddr.parseCIDR("::1/128"),
    ipaddr.parseCIDR("::/128"),
  ];
  for (const list of Object.values(networkInterfaces())) {
    for (const nic of list ?? []) {
      const ip = ipaddr.parse(nic.address.replace(/%.*$/, ""));
      out.push([ip, ip.kind() === "ipv4" ? 32 : 128]);
    }
  }
  return out;
}

const isLocal = (host: string) => {
  const h = host.toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (!ipaddr.isValid(h)) return false;
  const range = ipaddr.parse(h).range();
  return range === "loopback" || range === "unspecified";
};

/** `host:port` rules for one endpoint; a local one becomes the port on every local address. */
function endpoint(host: string, port: number, label: string): EgressRule[] {
  const bare = host.replace(/^\[|\]$/g, "");
  const ports: [number, number] = [port, port];
  if (isLocal(bare)) return localCidrs().map((cidr) => ({ cidr, ports, label }));
  return [{ ...parseRule(bare.includes(":") ? `[${bare}]` : bare, label), ports }];
}

function hostPort(address: string, defaultPort: number): [string, number] {
  const url = new URL(address.includes("://") ? address : `tcp://${address}`);
  return [url.hostname, Number(url.port) || defaultPort];
}

export function controlPlaneRules(s: ControlPlaneSettings): EgressRule[] {
  const rules: EgressRule[] = [];
  const add = (address: string | undefined, defaultPort: number, label: string) => {
    if (address) rules.push(...endpoint(...hostPort(address, defaultPort), label));
  };
  add(s.DATABASE_URL, 5432, "Weft's PostgreSQL server, DATABASE_URL");
  add(s.WEFT_SANDBOX_DATABASE_URL, 5432, "the sandbox's PostgreSQL server");
  add(s.TEMPORAL_ADDRESS, 7233, "Temporal frontend gRPC, TEMPORAL_ADDRESS");
  const [temporalHost, temporalPort] = hostPort(s.TEMPORAL_ADDRESS, 7233);
  // Defaults as the API and scripts/temporal-dev.sh pair them: HTTP at gRPC + 10, the UI at 8233.
  add(s.TEMPORAL_HTTP_ADDRESS ?? `${temporalHost}:${temporalPort + 10}`, 7243, "Temporal HTTP API");
  add(s.TEMPORAL_UI_ADDRESS ?? `${temporalHost}:8233`, 8233, "Temporal UI");
  add(s.WEFT_API_ADDRESS ?? "127.0.0.1:8000", 8000, "Weft API");
  add(`127.0.0.1:${s.WORKER_METRICS_PORT}`, 9464, "worker metrics");
  if (s.TEMPORAL_METRICS_PORT) add(`127.0.0.1:${s.TEMPORAL_METRICS_PORT}`, 9090, "Temporal SDK metrics");
  if (s.OTEL_EXPORTER_OTLP_ENDPOINT) {
    // A node must not write spans into the operators' traces; the URL's own port, or its scheme's default.
    const otlp = new URL(s.OTEL_EXPORTER_OTLP_ENDPOINT);
    const port = Number(otlp.port) || (otlp.protocol === "https:" ? 443 : 80);
    rules.push(...endpoint(otlp.hostname, port, "OpenTelemetry collector, OTEL_EXPORTER_OTLP_ENDPOINT"));
  }
  rules.push(...parseRules(s.WEFT_EGRESS_DENY_EXTRA, "WEFT_EGRESS_DENY_EXTRA"));
  return rules;
}

/** The policy every outbound connection of a node goes through, for this process's settings. */
export const egressPolicyFor = (s: ControlPlaneSettings & { WEFT_EGRESS_ALLOW: string }): EgressPolicy =>
  egressPolicy(s.WEFT_EGRESS_ALLOW, undefined, controlPlaneRules(s));
