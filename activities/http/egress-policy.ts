/**
 * Which addresses and ports nodes may reach. Safe with no configuration: only public unicast addresses.
 * Operators allow hosts or CIDRs with WEFT_EGRESS_ALLOW (comma-separated), each optionally limited to ports:
 * "api.internal,10.1.0.0/16:8000-8999,127.0.0.1:9000,[fd00::/8]:443". Weft's own control plane (its
 * PostgreSQL server, Temporal, the API, metrics: see control-plane.ts) is refused whatever the allow list says.
 */
import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

type Ip = ipaddr.IPv4 | ipaddr.IPv6;

/** One allow or deny entry: a CIDR or a host name, on every port or on a range of them. */
export interface EgressRule {
  cidr?: [Ip, number];
  host?: string;
  ports?: [number, number];
  /** What the entry protects, for error messages (deny rules). */
  label?: string;
}

export interface EgressPolicy {
  allow: EgressRule[];
  /** Weft's own infrastructure: always refused. Host-name entries are resolved when checked. */
  deny: EgressRule[];
  resolve: (hostname: string) => Promise<ResolvedAddress[]>;
  maxRedirects: number;
}

export class EgressBlockedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EgressBlockedError";
  }
}

const systemResolve = async (hostname: string): Promise<ResolvedAddress[]> =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family as 4 | 6,
  }));

function parsePorts(spec: string, entry: string): [number, number] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(spec);
  const from = Number(m?.[1]);
  const to = Number(m?.[2] ?? m?.[1]);
  if (!m || from < 1 || to > 65535 || from > to) throw new Error(`egress entry "${entry}": bad port or port range`);
  return [from, to];
}

function parseAddress(spec: string): [Ip, number] | null {
  if (spec.includes("/")) return ipaddr.parseCIDR(spec);
  if (!ipaddr.isValid(spec)) return null;
  const ip = ipaddr.parse(spec);
  return [ip, ip.kind() === "ipv4" ? 32 : 128];
}

/** "host", "host:port", "10.0.0.0/8:80-90", "[::1]:5432", "fd00::/8" (IPv6 with a port needs brackets). */
export function parseRule(entry: string, label?: string): EgressRule {
  let target = entry;
  let ports: [number, number] | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.+))?$/.exec(entry);
  if (bracketed) {
    target = bracketed[1];
    if (bracketed[2]) ports = parsePorts(bracketed[2], entry);
  } else if ((entry.match(/:/g) ?? []).length === 1) {
    const at = entry.lastIndexOf(":");
    target = entry.slice(0, at);
    ports = parsePorts(entry.slice(at + 1), entry);
  }
  let cidr: [Ip, number] | null;
  try {
    cidr = parseAddress(target);
  } catch {
    throw new Error(`egress entry "${entry}": not a valid address or CIDR`);
  }
  if (cidr) return { cidr, ports, label };
  if (!/^[A-Za-z0-9.-]+$/.test(target)) throw new Error(`egress entry "${entry}": not a host name, address or CIDR`);
  return { host: target.toLowerCase().replace(/\.$/, ""), ports, label };
}

export const parseRules = (list: string, label?: string) =>
  list.split(",").map((e) => e.trim()).filter(Boolean).map((e) => parseRule(e, label));

export function egressPolicy(allow = "", resolve = systemResolve, deny: EgressRule[] = []): EgressPolicy {
  return { allow: parseRules(allow), deny, resolve, maxRedirects: 5 };
}

const normalise = (address: string): Ip | null => {
  let ip: Ip;
  try {
    ip = ipaddr.parse(address);
  } catch {
    return null;
  }
  return ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip;
};

const portMatches = (rule: EgressRule, port: number) => !rule.ports || (port >= rule.ports[0] && port <= rule.ports[1]);
const addressMatches = (rule: EgressRule, ip: Ip) =>
  rule.cidr !== undefined && rule.cidr[0].kind() === ip.kind() && ip.match(rule.cidr[0], rule.cidr[1]);

/**
 * Why `address:port` (reached as `hostname`) may not be reached, or null when it may. `deny` must hold
 * resolved rules (see resolvedDenyRules); host-name rules in it match by name.
 */
export function blockedReason(
  address: string,
  port: number,
  policy: Pick<EgressPolicy, "allow">,
  deny: EgressRule[] = [],
  hostname?: string,
): string | null {
  const ip = normalise(address);
  if (!ip) return `"${address}" is not an IP address`;
  const name = hostname?.toLowerCase().replace(/\.$/, "");
  for (const rule of deny) {
    if ((addressMatches(rule, ip) || (name && rule.host === name)) && portMatches(rule, port)) {
      return `${ip.toString()}:${port} is Weft's own infrastructure (${rule.label ?? "control plane"})`;
    }
  }
  for (const rule of policy.allow) {
    if ((addressMatches(rule, ip) || (name && rule.host === name)) && portMatches(rule, port)) return null;
  }
  // Only globally routable unicast is allowed: loopback, private (RFC 1918), link-local (169.254/16,
  // cloud metadata), CGNAT (100.64/10), 0.0.0.0/8, multicast, unique-local, NAT64, 6to4, … are not.
  const range = ip.range();
  return range === "unicast" ? null : `${ip.toString()} is in a denied range (${range})`;
}

/** The host of a URL without IPv6 brackets. */
export const bareHost = (url: URL) => url.hostname.replace(/^\[|\]$/g, "").replace(/\.$/, "");

const DENY_CACHE_MS = 30_000;
const denyCache = new WeakMap<EgressPolicy, { at: number; rules: Promise<EgressRule[]> }>();

/** The deny rules with host names resolved to addresses (cached briefly): names alone are easy to dodge. */
export function resolvedDenyRules(policy: EgressPolicy): Promise<EgressRule[]> {
  const cached = denyCache.get(policy);
  if (cached && Date.now() - cached.at < DENY_CACHE_MS) return cached.rules;
  const rules = Promise.all(policy.deny.map(async (rule) => {
    if (!rule.host) return [rule];
    // A control-plane host that does not resolve here cannot be reached through it either.
    const addresses = await policy.resolve(rule.host).catch(() => []);
    return [rule, ...addresses.map((a) => ({ ...rule, host: undefined, cidr: parseAddress(a.address)! }))];
  })).then((lists) => lists.flat());
  denyCache.set(policy, { at: Date.now(), rules });
  return rules;
}

/**
 * Resolves `hostname` and checks every address it has at `port`; returns them when all may be reached.
 * Callers connect to one of the returned addresses, never resolving again (no DNS-rebinding window).
 */
export async function resolveChecked(hostname: string, port: number, policy: EgressPolicy): Promise<ResolvedAddress[]> {
  const host = hostname.replace(/^\[|\]$/g, "");
  const literal = ipaddr.isValid(host) ? [{ address: host, family: (host.includes(":") ? 6 : 4) as 4 | 6 }] : null;
  const [addresses, deny] = await Promise.all([
    literal ?? policy.resolve(host).catch((err) => {
      throw new EgressBlockedError(`${host} did not resolve (${(err as { code?: string }).code ?? err.message})`);
    }),
    resolvedDenyRules(policy),
  ]);
  if (!addresses.length) throw new EgressBlockedError(`${host} did not resolve`);
  for (const a of addresses) {
    const reason = blockedReason(a.address, port, policy, deny, host);
    if (reason) throw new EgressBlockedError(`blocked connection to ${host}:${port}: ${reason}`);
  }
  return addresses;
}
