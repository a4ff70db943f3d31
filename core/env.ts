/**
 * Configuration from the environment: each module that needs settings exports a fragment (a record of zod fields
 * named after their variables), each process's config module spreads the fragments it uses into one schema, and
 * `parseEnv` parses it once at start with one readable failure listing every bad variable.
 */
import { z } from "zod";

/** Zod fields keyed by environment variable name, spread into a process's schema. */
export type EnvFragment = Record<string, z.ZodType>;

export type Env = Record<string, string | undefined>;

/** The environment parsed by `schema`, or an error naming every variable that is wrong and why. */
export function parseEnv<S extends z.ZodType>(schema: S, env: Env, what: string): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join(".") || "(environment)"}: ${i.message}`);
  throw new Error(`invalid ${what} configuration:\n${lines.join("\n")}`);
}

/** An empty variable counts as unset, as ConfigMaps and Helm values often leave them. */
export const emptyAsUnset = <T extends z.ZodType>(field: T) => z.preprocess((v) => v || undefined, field);

/** "true" / "false" as a boolean. */
export const flag = (fallback: "true" | "false") =>
  z.enum(["true", "false"]).default(fallback).transform((v) => v === "true");

/** The database both processes keep their state in (db/client.ts). */
export const databaseEnv = {
  DATABASE_URL: z.string().url().default("postgres://postgres@127.0.0.1:5432/weft"),
} satisfies EnvFragment;

/** The two task queues: the API starts runs on the first and sends GPU work to the second; workers poll them. */
export const taskQueueEnv = {
  WEFT_TASK_QUEUE: z.string().min(1).default("weft-cpu"),
  /** Where llm_call, faiss_search and vector ingestion and search run. */
  WEFT_GPU_TASK_QUEUE: z.string().min(1).default("weft-gpu"),
} satisfies EnvFragment;

/** Traces (core/tracing-sdk.ts): no SDK is loaded while the endpoint is unset. */
export const tracingEnv = {
  /** OpenTelemetry traces go to <this>/v1/traces (OTLP/HTTP, JSON) when set. */
  OTEL_EXPORTER_OTLP_ENDPOINT: emptyAsUnset(z.string().url().optional()),
  OTEL_SERVICE_NAME: emptyAsUnset(z.string().min(1).optional()),
} satisfies EnvFragment;
