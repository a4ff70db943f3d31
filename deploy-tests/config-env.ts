/** The environment variables Weft's processes read (their zod config schemas), and which a manifest set leaves unset. */
import { configSchema as apiConfigSchema } from "../api/config.ts";
import { cpuWorkerSchema, gpuWorkerSchema } from "../worker/config.ts";
import { modelEnv } from "../activities/models/config.ts";
import { vectorEnv } from "../activities/vector/config.ts";
import { containerEnv, find, type Manifest } from "./manifests.ts";

export const API_VARS = Object.keys(apiConfigSchema.shape);
/** What a CPU-only worker pod reads; a GPU pod reads the model and index settings besides. */
export const WORKER_VARS = Object.keys(cpuWorkerSchema.shape);
export const GPU_WORKER_VARS = Object.keys(gpuWorkerSchema.shape);

/** Variables a manifest need not set, each with the reason. */
export const SET_ELSEWHERE: Record<string, string> = {
  WORKFLOW_BUNDLE_PATH: "set by the worker images (Dockerfile ENV) to the bundle built into them",
  TEMPORAL_UI_PROXY_URL: "development only (scripts/run.sh): a cluster configures the Temporal UI's codec instead",
  OTEL_SERVICE_NAME: "defaults to weft-api / weft-worker; a deployment renames its traces through extraEnv",
  WEFT_PAYLOAD_OLD_KEYS: "set only while the payload master key is rotated (docs/deploy.md), through extraEnv",
};

/**
 * The GPU pods' model choice and tuning: the operator picks models for the volume it mounts (docs/deploy.md); the
 * manifests set only where the volumes are mounted.
 */
for (const v of [...Object.keys(modelEnv), ...Object.keys(vectorEnv)]) {
  if (v !== "MODEL_DIR" && v !== "INDEX_DIR") {
    SET_ELSEWHERE[v] = "the GPU pods' models and tuning: workers.gpu.extraEnv";
  }
}

/** "Deployment/name: VAR" for every variable a process reads that its workload does not set. */
export function unsetVariables(manifests: Manifest[], names = { api: "weft-api", worker: "weft-worker" }): string[] {
  const missing: string[] = [];
  const check = (kind: string, name: string, vars: string[]) => {
    const env = containerEnv(manifests, find(manifests, kind, name));
    for (const v of vars) if (!env.has(v) && !(v in SET_ELSEWHERE)) missing.push(`${kind}/${name}: ${v}`);
  };
  check("Deployment", names.api, API_VARS);
  check("Deployment", `${names.worker}-cpu`, WORKER_VARS);
  check("Deployment", `${names.worker}-gpu`, GPU_WORKER_VARS);
  return missing;
}
