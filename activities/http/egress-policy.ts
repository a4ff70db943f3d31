/**
 * Which addresses nodes may reach. Safe with no configuration: only public unicast addresses. Operators
 * allow specific hosts or CIDRs with WEFT_EGRESS_ALLOW (comma-separated), e.g. "api.internal,10.1.0.0/16".
 */
import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export interface EgressPolicy {
  allowedHosts: Set<string>;
  allowedCidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][];
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

export function egressPolicy(allow = "", resolve = systemResolve): EgressPolicy {
  const allowedHosts = new Set<string>();
  const allowedCidrs: EgressPolicy["allowedCidrs"] = [];
  for (const entry of allow.split(",").map((e) => e.trim()).filter(Boolean)) {
    if (entry.includes("/")) allowedCidrs.push(ipaddr.parseCIDR(entry));
    else if (ipaddr.isValid(entry)) {
      allowedCidrs.push([ipaddr.parse(entry), ipaddr.parse(entry).kind() === "ipv4" ? 32 : 128]);
    } else allowedHosts.add(entry.toLowerCase());
  }
  return { allowedHosts, allowedCidrs, resolve, maxRedirects: 5 };
}

export function egressPolicyFromEnv(env: Record<string, string | undefined>): EgressPolicy {
  return egressPolicy(env.WEFT_EGRESS_ALLOW ?? "");
}

/** Why an address may not be reached, or null when it may. */
export function blockedReason(address: string, policy: EgressPolicy): string | null {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address);
  } catch {
    return `"${address}" is not an IP address`;
  }
  if (ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  for (const [range, bits] of policy.allowedCidrs) {
    if (range.kind() === ip.kind() && ip.match(range, bits)) return null;
  }
  // Only globally routable unicast is allowed: loopback, private (RFC 1918), link-local (169.254/16,
  // cloud metadata), CGNAT (100.64/10), 0.0.0.0/8, multicast, unique-local, NAT64, 6to4, … are not.
  const range = ip.range();
  return range === "unicast" ? null : `${ip.toString()} is in a denied range (${range})`;
}

/** The host of a URL without IPv6 brackets. */
export const bareHost = (url: URL) => url.hostname.replace(/^\[|\]$/g, "").replace(/\.$/, "");

export function hostAllowedByName(host: string, policy: EgressPolicy): boolean {
  return policy.allowedHosts.has(host.toLowerCase());
}
