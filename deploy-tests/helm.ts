/** The `helm` binary for the chart-rendering tests: $HELM, or `helm` on the PATH; null where there is none. */
import { execFileSync, spawnSync } from "node:child_process";

export const CHART = "helm/weft";

export function findHelm(): string | null {
  for (const candidate of [process.env.HELM, "helm"]) {
    if (!candidate) continue;
    if (spawnSync(candidate, ["version", "--short"], { encoding: "utf8" }).status === 0) return candidate;
  }
  return null;
}

/** `helm template weft helm/weft ARGS…`: the rendered manifests as one YAML stream. */
export const helmTemplate = (helm: string, args: string[] = []) =>
  execFileSync(helm, ["template", "weft", CHART, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
