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
import { type Doc, find, parseManifests, schemaErrors } from "./manifests.ts";

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
      "temporal-ui-values.yaml",
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

describe("helm/weft: the Temporal UI (temporalUi.enabled)", () => {
  const ms = parseManifests(helmTemplate(helm, ["-f", `${CHART}/ci/temporal-ui-values.yaml`]), "temporal-ui");
  const ui = find(ms, "Deployment", "weft-temporal-ui").spec.template.spec;
  const env = Object.fromEntries(ui.containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value]));
  const policy = (name: string) => find(ms, "NetworkPolicy", `weft-${name}`).spec;
  const selector = (component: string) => ({
    podSelector: {
      matchLabels: {
        "app.kubernetes.io/name": "weft",
        "app.kubernetes.io/instance": "weft",
        "app.kubernetes.io/component": component,
      },
    },
  });

  it("runs the pinned temporalio/ui 2.54 image on the chart's Temporal, with the codec on the API's own origin", () => {
    expect(ui.containers[0].image).toMatch(/^temporalio\/ui:2\.54\.\d+$/);
    expect(env).toMatchObject({
      TEMPORAL_ADDRESS: "temporal-frontend.temporal.svc.cluster.local:7233",
      TEMPORAL_UI_PUBLIC_PATH: "/temporal",
      TEMPORAL_CODEC_ENDPOINT: "https://weft.example.com/api/codec",
      TEMPORAL_CODEC_INCLUDE_CREDENTIALS: "true",
      TEMPORAL_DISABLE_WRITE_ACTIONS: "true",
      TEMPORAL_TLS_CA: "/etc/temporal-tls/ca.crt",
      TEMPORAL_TLS_SERVER_NAME: "temporal.internal",
    });
    // The API proxies /temporal/ to the UI's Service (signed-in users only) and links runs there.
    const api = find(ms, "Deployment", "weft-api").spec.template.spec.containers[0].env;
    expect(api.find((e: { name: string }) => e.name === "TEMPORAL_UI_PROXY_URL").value).toBe(
      "http://weft-temporal-ui:8080",
    );
    expect(find(ms, "Service", "weft-temporal-ui").spec).toMatchObject({
      type: "ClusterIP",
      ports: [{ name: "http", port: 8080, targetPort: "http" }],
    });
    expect(find(ms, "ConfigMap", "weft-config").data).toMatchObject({
      TEMPORAL_UI_URL: "https://weft.example.com/temporal",
      TEMPORAL_UI_ADDRESS: "weft-temporal-ui:8080",
    });
    // The Ingress still sends everything to the API: the UI has no route of its own, so no way around the proxy.
    expect(JSON.stringify(find(ms, "Ingress", "weft-api").spec)).not.toContain("temporal-ui");
  });

  it("lets only the API reach the UI, and the UI reach only DNS and Temporal's frontend", () => {
    expect(policy("temporal-ui-ingress").ingress).toEqual([
      { from: [selector("api")], ports: [{ port: 8080, protocol: "TCP" }] },
    ]);
    const egress = policy("temporal-ui-egress").egress;
    expect(egress.map((r: Doc) => r.ports.map((p: Doc) => p.port))).toEqual([[53, 53], [7233]]);
    expect(egress[1].to).toEqual([{
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "temporal" } },
    }]);
    expect(policy("api-egress").egress).toContainEqual({
      ports: [{ port: 8080, protocol: "TCP" }],
      to: [selector("temporal-ui")],
    });
  });

  it("runs the UI unprivileged, without a service account token, within resource limits", () => {
    expect(ui.automountServiceAccountToken).toBe(false);
    expect(ui.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 5000,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(ui.containers[0].securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(ui.containers[0].resources.limits.memory).toBe("256Mi");
    expect(ui.containers[0].resources.requests.cpu).toBe("50m");
  });

  it("is off by default, and refuses to guess the public URL without an Ingress", () => {
    const off = parseManifests(helmTemplate(helm), "default");
    expect(off.filter((m) => m.doc.metadata.name.includes("temporal-ui"))).toEqual([]);
    const api = find(off, "Deployment", "weft-api").spec.template.spec.containers[0].env;
    expect(api.map((e: { name: string }) => e.name)).not.toContain("TEMPORAL_UI_PROXY_URL");
    expect(() => helmTemplate(helm, ["--set=temporalUi.enabled=true"])).toThrow(/temporalUi.publicUrl/);
    const explicit = parseManifests(
      helmTemplate(helm, ["--set=temporalUi.enabled=true,temporalUi.publicUrl=http://weft.internal:8000"]),
      "publicUrl",
    );
    const e = find(explicit, "Deployment", "weft-temporal-ui").spec.template.spec.containers[0].env;
    expect(e.find((v: { name: string }) => v.name === "TEMPORAL_CODEC_ENDPOINT").value).toBe(
      "http://weft.internal:8000/api/codec",
    );
    expect(() => helmTemplate(helm, ["--set=temporalUi.enabled=true,temporalUi.publicUrl=https://x/api"])).toThrow(
      /publicUrl/,
    );
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
