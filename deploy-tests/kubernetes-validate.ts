/**
 * Offline validation of manifests against the Kubernetes API schemas with PyPI's kubernetes-validate (installed
 * by scripts/ops/setup-tools.sh into .state/ops-venv), strict: unknown fields are errors. It has no schemas for
 * CRDs; those are checked against kubernetes-models' schemas (manifests.ts `schemaErrors`).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";

const BIN = ".state/ops-venv/bin/kubernetes-validate";

/** The oldest Kubernetes helm/weft supports (Chart.yaml kubeVersion) and the newest the validator knows. */
export const KUBERNETES_VERSIONS = ["1.26.0", "1.37.0"];

/** API groups whose kinds are CRDs, validated elsewhere. */
const CRD_GROUPS = ["keda.sh/", "monitoring.coreos.com/"];

export interface ValidationResult {
  errors: string[];
  /** Resources it could not find a schema for that are not known CRDs. */
  unknownKinds: string[];
  passed: number;
}

export function kubernetesValidate(yamlText: string, version: string): ValidationResult {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`bash scripts/setup.sh\``);
  const dir = ".state/deploy-tests";
  mkdirSync(dir, { recursive: true });
  const file = `${dir}/validate-${process.pid}-${Math.random().toString(36).slice(2)}.yaml`;
  writeFileSync(file, yamlText);
  try {
    const run = spawnSync(BIN, ["--strict", "-k", version, file], { encoding: "utf8" });
    const lines = `${run.stdout}\n${run.stderr}`.split("\n").filter(Boolean);
    const errors = lines.filter((l) => l.startsWith("ERROR") || l.includes("Traceback"));
    if (run.status !== 0 && errors.length === 0) errors.push(`exit ${run.status}: ${lines.join("\n")}`);
    const unknownKinds = lines.filter((l) => l.includes("Couldn't find schema"))
      .filter((l) => !CRD_GROUPS.some((g) => l.includes(`api version ${g}`)));
    return { errors, unknownKinds, passed: lines.filter((l) => l.includes(" passed for resource ")).length };
  } finally {
    rmSync(file, { force: true });
  }
}
