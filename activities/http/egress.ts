/**
 * The one path every outbound request from a node takes. SSRF protection lives here: http(s) only; the
 * host is resolved and every address checked (egress-policy.ts); the connection goes to the address that
 * was checked (the check runs inside the connector, which dials the checked address: no rebinding window); every
 * redirect is checked again, a bounded number of times. Response bodies are read with a size cap.
 */
import ipaddr from "ipaddr.js";
import { Agent, buildConnector, fetch } from "undici";
import { bareHost, blockedReason, EgressBlockedError, type EgressPolicy, resolveChecked } from "./egress-policy.ts";

export { EgressBlockedError } from "./egress-policy.ts";

export interface EgressRequest {
  url: URL;
  method: string;
  headers: Headers;
  body?: string;
  signal: AbortSignal;
  maxResponseBytes: number;
  verifySsl?: boolean;
}

export interface EgressResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
  /** The URL that answered, after redirects. */
  url: string;
}

export class ResponseTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`response body is larger than ${limit} bytes`);
    this.name = "ResponseTooLargeError";
  }
}

/**
 * A connector that resolves with the policy's resolver, refuses when any address (at the request's port) is
 * denied, and connects to the address it checked. TLS still verifies the certificate against the URL's host.
 */
function guardedConnector(policy: EgressPolicy, verifySsl: boolean): buildConnector.connector {
  const connect = buildConnector({ rejectUnauthorized: verifySsl });
  return (opts, callback) => {
    const port = Number(opts.port) || (opts.protocol === "https:" ? 443 : 80);
    resolveChecked(opts.hostname, port, policy).then(([first]) => {
      const servername = ipaddr.isValid(opts.hostname.replace(/^\[|\]$/g, ""))
        ? opts.servername
        : opts.servername ?? opts.hostname;
      connect({ ...opts, hostname: first.address, port: String(port), servername }, callback);
    }).catch((err) => callback(err, null));
  };
}

const agents = new WeakMap<EgressPolicy, Map<boolean, Agent>>();
function agentFor(policy: EgressPolicy, verifySsl: boolean): Agent {
  let byTls = agents.get(policy);
  if (!byTls) agents.set(policy, byTls = new Map());
  let agent = byTls.get(verifySsl);
  if (!agent) {
    agent = new Agent({ connect: guardedConnector(policy, verifySsl) });
    byTls.set(verifySsl, agent);
  }
  return agent;
}

/** Checks what can be checked before connecting: the scheme, and hosts that are IP literals. */
export function checkUrl(url: URL, policy: EgressPolicy) {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new EgressBlockedError(`blocked request: only http and https are allowed, not ${url.protocol}`);
  }
  const host = bareHost(url);
  const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
  if (ipaddr.isValid(host)) {
    const reason = blockedReason(host, port, policy);
    if (reason) throw new EgressBlockedError(`blocked request to ${url.host}: ${reason}`);
  } else if (host === "" || host.toLowerCase() === "localhost" || host.toLowerCase().endsWith(".localhost")) {
    if (!policy.allow.some((rule) => rule.host === host.toLowerCase())) {
      throw new EgressBlockedError(`blocked request to ${url.host}: loopback host`);
    }
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function egressFetch(req: EgressRequest, policy: EgressPolicy): Promise<EgressResponse> {
  const dispatcher = agentFor(policy, req.verifySsl ?? true);
  let url = req.url;
  let method = req.method;
  let body = req.body;
  for (let hop = 0;; hop++) {
    checkUrl(url, policy);
    let response;
    try {
      response = await fetch(url, {
        method,
        headers: req.headers,
        body,
        signal: req.signal,
        redirect: "manual",
        dispatcher,
      });
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof EgressBlockedError) throw cause;
      throw err;
    }
    const location = response.headers.get("location");
    if (REDIRECTS.has(response.status) && location) {
      await response.body?.cancel();
      if (hop >= policy.maxRedirects) {
        throw new EgressBlockedError(`too many redirects (more than ${policy.maxRedirects})`);
      }
      url = new URL(location, url);
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === "POST")) {
        method = "GET";
        body = undefined;
      }
      continue;
    }
    return {
      status: response.status,
      headers: response.headers as unknown as Headers,
      body: await readCapped(response, req.maxResponseBytes),
      url: url.toString(),
    };
  }
}

async function readCapped(response: Awaited<ReturnType<typeof fetch>>, limit: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > limit) {
    await response.body?.cancel();
    throw new ResponseTooLargeError(limit);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    for await (const chunk of response.body) {
      size += chunk.byteLength;
      if (size > limit) {
        await response.body.cancel().catch(() => {});
        throw new ResponseTooLargeError(limit);
      }
      chunks.push(chunk);
    }
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
