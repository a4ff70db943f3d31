/**
 * helm/weft rendered with the default values and with each CI value file (helm/weft/ci/: GPU workers, TLS,
 * external Temporal): `helm lint --strict`, then every rendered object validated against the Kubernetes API
 * schemas (kubernetes-validate, strict) and every CRD object against its own schema (kubernetes-models). k8s/ too.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CHART, helmTemplate, requireHelm } from "./helm.ts";
import { KUBERNETES_VERSIONS, kubernetesValidate } from "./kubernetes-validate.ts";
import { find, parseManifests, schemaErrors } from "./manifests.ts";

const helm = requireHelm();
const VALUE_FILES = readdirSync(`${CHART}/ci`).filter((f) => f.endsWith("-values.yaml")).sort();
const CASES: [string, string[]][] = [
  ["default values", []],
  ...VALUE_FILES.map((f): [string, string[]] => [f, ["-f", `${CHART}/ci/${f}`]]),
];

describe("helm/weft value files", () => {
  it("has the GPU, TLS and external-Temporal value files", () => {
    expect(VALUE_FILES).toEqual([
      "external-temporal-values.yaml",
      "gpu-workers-values.yaml",
      "monitoring-values.yaml",
      "tls-values.yaml",
    ]);
  });

  for (const [label, args] of CASES) {
    describe(label, () => {
      const text = helmTemplate(helm, args);
      const manifests = parseManifests(text, `helm template ${label}`);

      it("passes helm lint --strict", () => {
        const out = execFileSync(helm, ["lint", "--strict", CHART, ...args], { encoding: "utf8", stdio: "pipe" });
        expect(out).toContain("0 chart(s) failed");
      });

      for (const version of KUBERNETES_VERSIONS) {
        it(`validates every rendered object against the Kubernetes ${version} schemas (strict)`, () => {
          const result = kubernetesValidate(text, version);
          expect(result.errors).toEqual([]);
          expect(result.unknownKinds).toEqual([]);
          const crds = manifests.filter((m) => String(m.doc.apiVersion).includes(".")).filter((m) =>
            !String(m.doc.apiVersion).includes(".k8s.io/")
          );
          expect(result.passed).toBe(manifests.length - crds.length);
        });
      }

      it("validates every CRD object (KEDA, Prometheus Operator) against its own schema", async () => {
        const crds = manifests.filter((m) => /^(keda\.sh|monitoring\.coreos\.com)\//.test(m.doc.apiVersion));
        const errors = (await Promise.all(crds.map(schemaErrors))).filter(Boolean);
        expect(errors).toEqual([]);
      });
    });
  }

  it("monitors with metrics Weft exports: every weft_* name in the rules and the dashboard exists", () => {
    const ms = parseManifests(helmTemplate(helm, ["-f", `${CHART}/ci/monitoring-values.yaml`]), "monitoring");
    const kinds = ms.map((m) => m.doc.kind);
    for (const kind of ["ServiceMonitor", "PodMonitor", "PrometheusRule"]) expect(kinds).toContain(kind);
    const exported = new Set(
      ["api/metrics.ts", "activities/metrics.ts", "worker/health.ts"]
        .flatMap((f) => [...readFileSync(f, "utf8").matchAll(/name: "(weft_[a-z_]+)"/g)].map((m) => m[1])),
    );
    const rules = find(ms, "PrometheusRule", "weft").spec.groups[0].rules;
    expect(rules.map((r: { alert: string }) => r.alert).sort()).toEqual(
      ["WeftApi5xx", "WeftRunFailureRateHigh", "WeftRunsStuckPending", "WeftTaskQueueBacklog", "WeftWorkerDown"],
    );
    const dashboard = JSON.parse(find(ms, "ConfigMap", "weft-dashboard").data["weft.json"]);
    const exprs = [
      ...rules.map((r: { expr: string }) => r.expr),
      ...dashboard.panels.flatMap((p: { targets: { expr: string }[] }) => p.targets.map((t) => t.expr)),
    ];
    const used = new Set(
      exprs.flatMap((e) => [...e.matchAll(/\b(weft_[a-z_]+?)(?:_bucket|_count|_sum)?\b/g)].map((m) => m[1])),
    );
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
    expect(used.size).toBeGreaterThanOrEqual(7);
    // The Ingress routes to the API's http port only; metrics stay inside the cluster.
    const api = parseManifests(helmTemplate(helm, ["--set=api.ingress.enabled=true"]), "ingress");
    expect(JSON.stringify(find(api, "Ingress", "weft-api").spec)).not.toContain("metrics");
  });

  it("turns each feature on where its value file says", () => {
    const render = (file: string) => parseManifests(helmTemplate(helm, ["-f", `${CHART}/ci/${file}`]), file);
    const gpu = find(render("gpu-workers-values.yaml"), "Deployment", "weft-worker-gpu").spec.template.spec;
    expect(gpu.runtimeClassName).toBe("nvidia");
    expect(gpu.containers[0].resources.limits["nvidia.com/gpu"]).toBe(2);
    const tls = render("tls-values.yaml");
    expect(find(tls, "Ingress", "weft-api").spec.tls[0].secretName).toBe("weft-api-tls");
    expect(find(tls, "ConfigMap", "weft-config").data.TEMPORAL_TLS).toBe("true");
    const external = render("external-temporal-values.yaml");
    expect(find(external, "ConfigMap", "weft-config").data).toMatchObject({
      TEMPORAL_ADDRESS: "weft.a1b2c.tmprl.cloud:7233",
      TEMPORAL_NAMESPACE: "weft.a1b2c",
    });
    expect(find(external, "Secret", "weft-secrets").stringData.TEMPORAL_API_KEY).toBe("temporal-cloud-api-key");
  });
});

describe("k8s/", () => {
  const files = readdirSync("k8s").filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml").sort();
  const text = files.map((f) => readFileSync(`k8s/${f}`, "utf8")).join("\n---\n");

  for (const version of KUBERNETES_VERSIONS) {
    it(`validates every manifest (examples included) against the Kubernetes ${version} schemas (strict)`, () => {
      const result = kubernetesValidate(text, version);
      expect(result.errors).toEqual([]);
      expect(result.unknownKinds).toEqual([]);
      expect(result.passed).toBeGreaterThanOrEqual(15);
    });
  }
});
