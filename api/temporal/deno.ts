/**
 * The API process's transport to Temporal's HTTP API (Deno only): fetch with the mounted CA, the client
 * certificate for mTLS, and the server name override, from the same TEMPORAL_TLS_* files the worker uses.
 */
import type { TemporalTlsSettings } from "../../core/temporal-connection.ts";
import type { TemporalHttpTarget } from "./address.ts";

export function temporalFetch(s: TemporalTlsSettings, target: TemporalHttpTarget): typeof fetch | undefined {
  const custom = s.TEMPORAL_TLS_CA || s.TEMPORAL_TLS_CERT || target.connectTo;
  if (!custom) return undefined;
  const options: Deno.CreateHttpClientOptions & Partial<Deno.TlsCertifiedKeyPem> = {};
  if (s.TEMPORAL_TLS_CA) options.caCerts = [Deno.readTextFileSync(s.TEMPORAL_TLS_CA)];
  if (s.TEMPORAL_TLS_CERT && s.TEMPORAL_TLS_KEY) {
    options.cert = Deno.readTextFileSync(s.TEMPORAL_TLS_CERT);
    options.key = Deno.readTextFileSync(s.TEMPORAL_TLS_KEY);
  }
  // The URL names the server (its certificate is checked against that name); the socket goes to the address.
  if (target.connectTo) options.proxy = { transport: "tcp", ...target.connectTo };
  const client = Deno.createHttpClient(options as Deno.CreateHttpClientOptions);
  return (input, init) => fetch(input, { ...init, client });
}
