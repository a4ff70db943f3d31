/**
 * The `helm` binary for the chart-rendering tests: $HELM, the one scripts/ops/setup-tools.sh installs in
 * .state/bin, or `helm` on the PATH. Setup installs it, so a missing binary fails the tests instead of skipping.
 */
import { execFileSync, spawnSync } from "node:child_process";

export const CHART = "helm/weft";

export function findHelm(): string | null {
  for (const candidate of [process.env.HELM, ".state/bin/helm", "helm"]) {
    if (!candidate) continue;
    if (spawnSync(candidate, ["version", "--short"], { encoding: "utf8" }).status === 0) return candidate;
  }
  return null;
}

export function requireHelm(): string {
  const helm = findHelm();
  if (!helm) throw new Error("no helm binary: run `bash scripts/setup.sh` (it installs .state/bin/helm) or set HELM");
  return helm;
}

/** `helm template weft helm/weft ARGS…`: the rendered manifests as one YAML stream. */
export const helmTemplate = (helm: string, args: string[] = []) =>
  execFileSync(helm, ["template", "weft", CHART, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
