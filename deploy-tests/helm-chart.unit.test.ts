/**
 * helm/weft: values.yaml documented and valid against values.schema.json, every variable the processes read wired
 * into the templates, and the chart rendered by the `helm` setup installs (deploy-tests/helm.ts) validated
 * against the Kubernetes schemas and held to the same deployment rules as k8s/.
 */
import { readdirSync, readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { isMap, type Node, parse, parseDocument } from "yaml";
import { API_VARS, GPU_WORKER_VARS, SET_ELSEWHERE, WORKER_VARS } from "./config-env.ts";
import { CHART, helmTemplate, requireHelm } from "./helm.ts";
import {
  type Doc,
  find,
  loadManifests,
  type Manifest,
  parseManifests,
  schemaErrors,
  unknownFieldErrors,
} from "./manifests.ts";
import { deploymentRules } from "./rules.ts";

const valuesText = readFileSync(`${CHART}/values.yaml`, "utf8");
const values = parse(valuesText);
const schema = JSON.parse(readFileSync(`${CHART}/values.schema.json`, "utf8"));
const validateValues = new Ajv({ allErrors: true, allowUnionTypes: true }).compile(schema);
const templates = readdirSync(`${CHART}/templates`).map((f) => readFileSync(`${CHART}/templates/${f}`, "utf8")).join(
  "\n",
);

/** Dotted paths of the keys in values.yaml with no comment above them (lists hold Kubernetes objects: skipped). */
function uncommentedKeys(node: Node | null, path: string[] = []): string[] {
  if (!isMap(node)) return [];
  return node.items.flatMap((pair, i) => {
    const key = String((pair.key as { value: unknown }).value);
    const comment = (pair.key as Node).commentBefore ?? (i === 0 ? node.commentBefore : undefined);
    return [...(comment ? [] : [[...path, key].join(".")]), ...uncommentedKeys(pair.value as Node, [...path, key])];
  });
}

/** values.yaml with `overrides` merged in (objects deeply, everything else replaced). */
function withValues(overrides: Doc, base: Doc = structuredClone(values)): Doc {
  for (const [k, v] of Object.entries(overrides)) {
    base[k] = v && typeof v === "object" && !Array.isArray(v) ? withValues(v, base[k] ?? {}) : v;
  }
  return base;
}

describe("helm/weft", () => {
  it("describes the chart and tags the images like k8s/", () => {
    const chart = parse(readFileSync(`${CHART}/Chart.yaml`, "utf8"));
    expect(chart).toMatchObject({ apiVersion: "v2", name: "weft", type: "application" });
    expect(chart.appVersion).toBe(JSON.parse(readFileSync("package.json", "utf8")).version);
    const kustomization = parse(readFileSync("k8s/kustomization.yaml", "utf8"));
    for (const image of kustomization.images) expect(image.newTag).toBe(chart.appVersion);
  });

  it("comments every key of values.yaml", () => {
    expect(uncommentedKeys(parseDocument(valuesText).contents)).toEqual([]);
  });

  it("validates values.yaml against values.schema.json", () => {
    expect(validateValues(values), JSON.stringify(validateValues.errors)).toBe(true);
  });

  it("rejects misspelt keys and wrong types in values", () => {
    const bad = [
      { workers: { gpu: { gpuPerPod: 1 } } },
      { temporal: { tls: { enabled: "yes" } } },
      { api: { jwt: { ttlSeconds: 10 } } },
      { temporal: { address: "http://temporal:7233" } },
      { networkPolicy: { blockedCidrs: ["not-a-cidr"] } },
      { temporalUi: { enabled: "true" } },
      { temporalUi: { publicUrl: "weft.example.com" } },
      { temporalUi: { disableWriteActions: "false" } },
      { temporalUi: { image: { tag: "2.54.0" }, imageTag: "latest" } },
    ];
    for (const overrides of bad) expect(validateValues(withValues(overrides)), JSON.stringify(overrides)).toBe(false);
  });

  it("sets every variable the processes read somewhere in its templates", () => {
    const vars = [...new Set([...API_VARS, ...WORKER_VARS, ...GPU_WORKER_VARS])].filter((v) => !(v in SET_ELSEWHERE));
    expect(vars.filter((v) => !new RegExp(`(name: |^\\s+)${v}\\b`, "m").test(templates))).toEqual([]);
  });
});

describe("helm/weft rendered by helm", () => {
  const helm = requireHelm();
  const rendered = new Map<string, Manifest[]>();
  /** `helm template` with these --set/-f arguments, parsed (and cached). */
  const render = (args: string[] = []) => {
    const key = args.join(" ");
    if (!rendered.has(key)) rendered.set(key, parseManifests(helmTemplate(helm, args), `helm template ${key}`));
    return rendered.get(key)!;
  };
  const FULL = [
    "--set=secrets.existingSecret=,secrets.databaseUrl=postgres://weft:pw@db:5432/weft",
    "--set=secrets.jwtSecret=0123456789abcdef0123456789abcdef,secrets.temporalApiKey=key",
    "--set=secrets.secretsKey=c2VjcmV0cy1rZXktMzItYnl0ZXMtbG9uZy4uLi4uLi4=,secrets.payloadKey=cGF5bG9hZC1rZXktMzItYnl0ZXMtbG9uZy4uLi4uLi4=",
    "--set=temporal.address=ns.acct.tmprl.cloud:7233,temporal.namespace=ns.acct,temporal.apiKey.enabled=true",
    "--set=temporal.tls.enabled=true,temporal.tls.existingSecret=weft-temporal-tls,temporal.tls.serverName=x",
    "--set=api.autoscaling.enabled=false,api.ingress.enabled=true,api.ingress.tlsSecretName=weft-tls",
    "--set=workers.gpu.runtimeClassName=nvidia,workers.gpu.models.existingClaim=models",
    "--set=networkPolicy.metricsScrapeFrom[0].namespaceSelector.matchLabels.team=monitoring",
    "--set=temporalUi.enabled=true",
  ];

  it("passes helm lint with the default values and with every feature on", async () => {
    const { execFileSync } = await import("node:child_process");
    for (const args of [[], FULL]) execFileSync(helm, ["lint", "--strict", CHART, ...args], { stdio: "pipe" });
  });

  it("renders the same resources as k8s/ with the default values", () => {
    const k8s = loadManifests(
      parse(readFileSync("k8s/kustomization.yaml", "utf8")).resources.map((r: string) => `k8s/${r}`),
    );
    const ids = (ms: Manifest[]) => ms.map((m) => `${m.doc.kind}/${m.doc.metadata.name.replace(/-\d+$/, "")}`).sort();
    expect(ids(render())).toEqual(ids(k8s));
  });

  for (const [label, args] of [["default values", []], ["every feature on", FULL]] as const) {
    it(`validates every rendered manifest against its kind's schema (${label})`, async () => {
      const errors = (await Promise.all(render([...args]).map(schemaErrors))).filter(Boolean);
      expect(errors).toEqual([]);
    });

    it(`uses no field the schemas do not define (${label})`, () => {
      expect(unknownFieldErrors(render([...args]), "helm")).toEqual([]);
    }, 60_000);
  }

  it("wires Temporal mTLS and API keys into the pods and KEDA, and creates the Secret from values", () => {
    const ms = render(FULL);
    const config = find(ms, "ConfigMap", "weft-config").data;
    const mount = find(ms, "Deployment", "weft-api").spec.template.spec.containers[0].volumeMounts
      .find((v: Doc) => v.name === "temporal-tls");
    expect(config).toMatchObject({
      TEMPORAL_TLS: "true",
      TEMPORAL_TLS_CERT: `${mount.mountPath}/tls.crt`,
      TEMPORAL_TLS_KEY: `${mount.mountPath}/tls.key`,
      TEMPORAL_TLS_CA: `${mount.mountPath}/ca.crt`,
    });
    const auth = find(ms, "TriggerAuthentication", "weft-temporal");
    expect(auth.spec.secretTargetRef.map((r: Doc) => r.parameter).sort()).toEqual(["apiKey", "ca", "cert", "key"]);
    for (const s of ms.filter((m) => m.doc.kind === "ScaledObject")) {
      expect(s.doc.spec.triggers[0].authenticationRef).toEqual({ name: "weft-temporal" });
    }
    expect(Object.keys(find(ms, "Secret", "weft-secrets").stringData).sort())
      .toEqual([
        "DATABASE_URL",
        "JWT_SECRET",
        "TEMPORAL_API_KEY",
        "WEFT_DB_CONNECTIONS",
        "WEFT_PAYLOAD_KEY",
        "WEFT_SANDBOX_DATABASE_URL",
        "WEFT_SECRETS_KEY",
        "WEFT_SECRETS_OLD_KEYS",
      ]);
    expect(find(ms, "Deployment", "weft-api").spec.replicas).toBe(2);
    expect(find(ms, "Ingress", "weft-api").spec.tls[0].secretName).toBe("weft-tls");
  });

  it("refuses to create a Secret without the database URL and JWT secret", () => {
    expect(() => helmTemplate(helm, ["--set=secrets.existingSecret="])).toThrow(/secrets.databaseUrl is required/);
  });

  it("sends traces to the collector only when tracing.otlpEndpoint is set, and lets the API and workers reach it", () => {
    const collectorRules = (ms: Manifest[], policy: string) =>
      find(ms, "NetworkPolicy", `weft-${policy}`).spec.egress.filter((r: Doc) =>
        r.ports?.some((p: Doc) => p.port === 4318)
      );
    const off = render();
    expect(find(off, "ConfigMap", "weft-config").data.OTEL_EXPORTER_OTLP_ENDPOINT).toBe("");
    expect(collectorRules(off, "api-egress")).toEqual([]);
    expect(collectorRules(off, "worker-egress")).toEqual([]);
    const on = render(["-f", "helm/weft/ci/monitoring-values.yaml"]);
    expect(find(on, "ConfigMap", "weft-config").data.OTEL_EXPORTER_OTLP_ENDPOINT)
      .toBe("http://otel-collector.observability:4318");
    for (const policy of ["api-egress", "worker-egress"]) {
      expect(collectorRules(on, policy), policy).toEqual([{
        ports: [{ port: 4318, protocol: "TCP" }],
        to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "observability" } } }],
      }]);
    }
    expect(() => helmTemplate(helm, ["--set=tracing.otlpEndpoint=collector:4318"])).toThrow(/otlpEndpoint/);
  });

  it("leaves the GPU workers out when disabled", () => {
    const gpuParts = render(["--set=workers.gpu.enabled=false"])
      .filter((m) => m.doc.metadata.labels?.["app.kubernetes.io/component"] === "worker-gpu");
    expect(gpuParts).toEqual([]);
  });

  describe("deployment rules (default values)", () => {
    deploymentRules(() => render());
  });
});
