/** The environment variables Weft's processes read (their zod config schemas), and which a manifest set leaves unset. */
import { configSchema as apiConfigSchema } from "../api/config.ts";
import { configSchema as workerConfigSchema } from "../worker/config.ts";
import { containerEnv, find, type Manifest } from "./manifests.ts";

export const API_VARS = Object.keys(apiConfigSchema.shape);
export const WORKER_VARS = Object.keys(workerConfigSchema.shape);

/** Variables a manifest need not set, each with the reason. */
export const SET_ELSEWHERE: Record<string, string> = {
  WORKFLOW_BUNDLE_PATH: "set by the worker images (Dockerfile ENV) to the bundle built into them",
  TEMPORAL_UI_PROXY_URL: "development only (scripts/run.sh): a cluster configures the Temporal UI's codec instead",
  OTEL_SERVICE_NAME: "defaults to weft-api / weft-worker; a deployment renames its traces through extraEnv",
};

/** Read by the AI nodes on GPU workers (not in the config schema yet): the mounted model and index volumes. */
export const GPU_WORKER_VARS = ["MODEL_DIR", "INDEX_DIR"];

/** "Deployment/name: VAR" for every variable a process reads that its workload does not set. */
export function unsetVariables(manifests: Manifest[], names = { api: "weft-api", worker: "weft-worker" }): string[] {
  const missing: string[] = [];
  const check = (kind: string, name: string, vars: string[]) => {
    const env = containerEnv(manifests, find(manifests, kind, name));
    for (const v of vars) if (!env.has(v) && !(v in SET_ELSEWHERE)) missing.push(`${kind}/${name}: ${v}`);
  };
  check("Deployment", names.api, API_VARS);
  check("Deployment", `${names.worker}-cpu`, WORKER_VARS);
  check("Deployment", `${names.worker}-gpu`, [...WORKER_VARS, ...GPU_WORKER_VARS]);
  return missing;
}
