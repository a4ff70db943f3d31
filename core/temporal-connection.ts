/**
 * How the API and the worker reach Temporal beyond its address: TLS, mutual TLS from a mounted secret's files
 * (a self-hosted cluster), or an API key (Temporal Cloud). Unset, the connection is plaintext as in development.
 */
import { z } from "zod";

/** An empty variable counts as unset, as ConfigMaps and Helm values often leave them. */
const optionalText = z.string().optional().transform((v) => v || undefined);

/** Environment fields both processes read; spread into each process's config schema (with `temporalEnv`). */
export const temporalTlsEnv = {
  /** Force TLS with the system's root certificates even when no file or key below is set. */
  TEMPORAL_TLS: z.enum(["true", "false", ""]).default("false").transform((v) => v === "true"),
  /** PEM file paths (a mounted Secret): client certificate and key for mTLS, and the server's CA. */
  TEMPORAL_TLS_CERT: optionalText,
  TEMPORAL_TLS_KEY: optionalText,
  TEMPORAL_TLS_CA: optionalText,
  /** The name the server's certificate is checked against when it differs from the address's host. */
  TEMPORAL_TLS_SERVER_NAME: optionalText,
  /** Temporal Cloud API key; implies TLS. */
  TEMPORAL_API_KEY: optionalText,
};

/** Where Temporal is and which namespace Weft's workflows live in, with the TLS fields above. */
export const temporalEnv = {
  TEMPORAL_ADDRESS: z.string().min(1).default("127.0.0.1:7233"),
  TEMPORAL_NAMESPACE: z.string().min(1).default("default"),
  ...temporalTlsEnv,
};

export interface TemporalTlsSettings {
  TEMPORAL_TLS: boolean;
  TEMPORAL_TLS_CERT?: string;
  TEMPORAL_TLS_KEY?: string;
  TEMPORAL_TLS_CA?: string;
  TEMPORAL_TLS_SERVER_NAME?: string;
  TEMPORAL_API_KEY?: string;
}

/** For a config schema's `.refine(...)`: a client certificate is useless without its key and the other way round. */
export const certAndKeyTogether = (s: TemporalTlsSettings) => !s.TEMPORAL_TLS_CERT === !s.TEMPORAL_TLS_KEY;
export const certAndKeyTogetherError = {
  message: "TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together",
  path: ["TEMPORAL_TLS_CERT"],
};

export interface TemporalTlsOptions<B> {
  tls?: {
    clientCertPair?: { crt: B; key: B };
    serverRootCACertificate?: B;
    serverNameOverride?: string;
  };
  apiKey?: string;
}

/**
 * The `tls`/`apiKey` part of `Connection.connect` / `NativeConnection.connect` options, reading the PEM files
 * with the caller's `readFile` (node:fs `readFileSync` in both processes). `{}` when nothing is configured.
 */
export function temporalTlsOptions<B>(s: TemporalTlsSettings, readFile: (path: string) => B): TemporalTlsOptions<B> {
  const options: TemporalTlsOptions<B> = {};
  if (s.TEMPORAL_API_KEY) options.apiKey = s.TEMPORAL_API_KEY;
  if (!(s.TEMPORAL_TLS || s.TEMPORAL_TLS_CERT || s.TEMPORAL_TLS_CA || s.TEMPORAL_TLS_SERVER_NAME)) return options;
  options.tls = {};
  if (s.TEMPORAL_TLS_CERT && s.TEMPORAL_TLS_KEY) {
    options.tls.clientCertPair = { crt: readFile(s.TEMPORAL_TLS_CERT), key: readFile(s.TEMPORAL_TLS_KEY) };
  }
  if (s.TEMPORAL_TLS_CA) options.tls.serverRootCACertificate = readFile(s.TEMPORAL_TLS_CA);
  if (s.TEMPORAL_TLS_SERVER_NAME) options.tls.serverNameOverride = s.TEMPORAL_TLS_SERVER_NAME;
  return options;
}
