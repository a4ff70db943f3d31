/**
 * Where the API reaches Temporal's HTTP API: TEMPORAL_HTTP_ADDRESS (host:port or a URL), by default the gRPC
 * address's host at its port + 10 (7233 → 7243, Temporal's own pairing); https when any TLS setting is given.
 */
import type { TemporalTlsSettings } from "../../core/temporal-connection.ts";

export interface TemporalHttpSettings extends TemporalTlsSettings {
  TEMPORAL_ADDRESS: string;
  TEMPORAL_HTTP_ADDRESS?: string;
}

export interface TemporalHttpTarget {
  /** Base URL of the requests; its host is TEMPORAL_TLS_SERVER_NAME when that is set. */
  url: string;
  /** Where to connect when that differs from the URL's host (a server name override). */
  connectTo?: { hostname: string; port: number };
  tls: boolean;
}

export const usesTls = (s: TemporalTlsSettings) =>
  Boolean(
    s.TEMPORAL_TLS || s.TEMPORAL_TLS_CERT || s.TEMPORAL_TLS_CA || s.TEMPORAL_TLS_SERVER_NAME || s.TEMPORAL_API_KEY,
  );

/** The HTTP API's address from the settings; throws an Error naming the variable when it cannot be used. */
export function temporalHttpTarget(s: TemporalHttpSettings): TemporalHttpTarget {
  const tls = usesTls(s);
  let raw = s.TEMPORAL_HTTP_ADDRESS;
  if (!raw) {
    const m = /^(.*):(\d+)$/.exec(s.TEMPORAL_ADDRESS);
    if (!m) throw new Error("TEMPORAL_HTTP_ADDRESS: required when TEMPORAL_ADDRESS has no port");
    raw = `${m[1]}:${Number(m[2]) + 10}`;
  }
  let url: URL;
  try {
    url = new URL(raw.includes("://") ? raw : `${tls ? "https" : "http"}://${raw}`);
  } catch {
    throw new Error(`TEMPORAL_HTTP_ADDRESS: not a host:port or URL: ${raw}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`TEMPORAL_HTTP_ADDRESS: must be http:// or https://, not ${url.protocol}`);
  }
  if (tls && url.protocol === "http:") {
    throw new Error("TEMPORAL_HTTP_ADDRESS: http:// while TLS settings (TEMPORAL_TLS*, TEMPORAL_API_KEY) are given");
  }
  let connectTo: TemporalHttpTarget["connectTo"];
  if (s.TEMPORAL_TLS_SERVER_NAME && url.protocol === "https:") {
    connectTo = { hostname: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || 443) };
    url.hostname = s.TEMPORAL_TLS_SERVER_NAME;
  }
  return { url: url.toString().replace(/\/+$/, ""), connectTo, tls: url.protocol === "https:" };
}
