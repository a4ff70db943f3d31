/**
 * The API process's transport to Temporal's HTTP API (Deno only): fetch with the mounted CA and the client
 * certificate for mTLS, from the same TEMPORAL_TLS_* files the worker uses. Deno's fetch cannot check a
 * certificate against another name than the URL's host, so with TEMPORAL_TLS_SERVER_NAME the calls go through
 * node:https (HTTP/1.1, `servername`) to the address instead.
 */
import { Buffer } from "node:buffer";
import { Agent, request } from "node:https";
import type { TemporalTlsSettings } from "../../core/temporal-connection.ts";
import type { TemporalHttpTarget } from "./address.ts";

export function temporalFetch(s: TemporalTlsSettings, target: TemporalHttpTarget): typeof fetch | undefined {
  const ca = s.TEMPORAL_TLS_CA ? Deno.readTextFileSync(s.TEMPORAL_TLS_CA) : undefined;
  const pair = s.TEMPORAL_TLS_CERT && s.TEMPORAL_TLS_KEY
    ? { cert: Deno.readTextFileSync(s.TEMPORAL_TLS_CERT), key: Deno.readTextFileSync(s.TEMPORAL_TLS_KEY) }
    : undefined;
  if (target.connectTo) return serverNameFetch(target.connectTo, { ca, ...pair });
  if (!ca && !pair) return undefined;
  const client = Deno.createHttpClient({ ...(ca ? { caCerts: [ca] } : {}), ...pair } as Deno.CreateHttpClientOptions);
  return (input, init) => fetch(input, { ...init, client });
}

/** fetch's shape over node:https: the URL's host is the TLS server name, the socket goes to `connectTo`. */
function serverNameFetch(
  connectTo: { hostname: string; port: number },
  tls: { ca?: string; cert?: string; key?: string },
): typeof fetch {
  const agent = new Agent({ keepAlive: true, ...tls });
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const headers = Object.fromEntries(new Headers(init?.headers));
      const req = request({
        agent,
        ...tls,
        host: connectTo.hostname,
        port: connectTo.port,
        servername: url.hostname,
        path: url.pathname + url.search,
        method: init?.method ?? "GET",
        headers: { ...headers, host: url.host },
        signal: init?.signal ?? undefined,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const status = res.statusCode ?? 502;
          resolve(new Response(status === 204 ? null : Buffer.concat(chunks), { status }));
        });
      });
      req.on("error", reject);
      req.end(typeof init?.body === "string" ? init.body : undefined);
    });
}
