/**
 * Weft's deployment rules, checked on any set of manifests (k8s/ and the Helm chart's rendering): probes,
 * graceful shutdown, unprivileged pods, GPU scheduling, KEDA scaling, disruption budgets, network policies.
 */
import ipaddr from "ipaddr.js";
import { expect, it } from "vitest";
import { unsetVariables } from "./config-env.ts";
import { DEFAULT_NODE_TIMEOUT_MS, RECORD_SLACK_MS } from "../core/node-policy.ts";
import {
  containerEnv,
  containerEnvValue,
  describeManifest,
  type Doc,
  find,
  type Manifest,
  workloads,
} from "./manifests.ts";

/** A node attempt's default start-to-close timeout, as the workflow gives its activity (core/node-policy.ts). */
export function defaultActivityTimeoutSeconds(): number {
  return (DEFAULT_NODE_TIMEOUT_MS + RECORD_SLACK_MS) / 1000;
}

/** The queue a worker Deployment polls, as worker/main.ts decides it (a GPU-only pod polls the GPU queue). */
function polledQueue(ms: Manifest[], d: Doc): string | undefined {
  const gpuOnly = containerEnvValue(ms, d, "WEFT_WORKER_QUEUES") === "gpu";
  return containerEnvValue(ms, d, gpuOnly ? "WEFT_GPU_TASK_QUEUE" : "WEFT_TASK_QUEUE");
}

const pods = (ms: Manifest[]) => workloads(ms).map((m) => ({ m, pod: m.doc.spec.template.spec as Doc }));
const probe = (c: Doc, kind: string) => c[kind]?.httpGet as { path: string; port: string | number } | undefined;

/** Whether an egress rule lets a pod reach `address` (on some port). */
function ruleAllows(rule: Doc, address: string): boolean {
  if (!rule.to) return true;
  const ip = ipaddr.parse(address);
  return rule.to.some((peer: Doc) => {
    if (!peer.ipBlock) return false; // pod/namespace selectors address pods, never arbitrary IPs
    const inRange = (cidr: string) => {
      const [range, bits] = ipaddr.parseCIDR(cidr);
      return range.kind() === ip.kind() && ip.match(range, bits);
    };
    return inRange(peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some(inRange);
  });
}

const PRIVATE_ADDRESSES = [
  "169.254.169.254",
  "10.0.0.1",
  "10.96.0.1",
  "172.20.0.10",
  "192.168.1.1",
  "127.0.0.1",
  "100.64.0.1",
];
/** Ports a rule without destinations may open: DNS and PostgreSQL, wherever they run. */
const PORT_ONLY_RULES = new Set([53, 5432]);

export interface Names {
  api: string;
  worker: string;
}

export function deploymentRules(
  manifests: () => Manifest[],
  names: Names = { api: "weft-api", worker: "weft-worker" },
) {
  const deployment = (name: string) => find(manifests(), "Deployment", name);
  const cpu = () => deployment(`${names.worker}-cpu`);
  const gpu = () => deployment(`${names.worker}-gpu`);

  it("sets every variable the API and the workers read", () => {
    expect(unsetVariables(manifests(), names)).toEqual([]);
  });

  it("runs every pod unprivileged on a read-only root filesystem, with a writable /tmp and no API token", () => {
    for (const { m, pod } of pods(manifests())) {
      const where = describeManifest(m);
      expect(pod.securityContext?.runAsNonRoot, where).toBe(true);
      expect(pod.securityContext?.runAsUser, where).toBe(10001);
      expect(pod.automountServiceAccountToken, where).toBe(false);
      for (const c of pod.containers) {
        expect(c.securityContext, where).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        });
        const tmp = c.volumeMounts?.find((v: Doc) => v.mountPath === "/tmp");
        expect(pod.volumes.find((v: Doc) => v.name === tmp?.name)?.emptyDir, `${where}: /tmp`).toBeDefined();
      }
    }
  });

  it("probes the API's /readyz and /healthz on its port and the workers' /healthz on their metrics port", () => {
    const api = deployment(names.api).spec.template.spec.containers[0];
    const apiPort = api.ports.find((p: Doc) => p.name === "http");
    expect(Number(containerEnvValue(manifests(), deployment(names.api), "PORT"))).toBe(apiPort.containerPort);
    expect(probe(api, "readinessProbe")).toEqual({ path: "/readyz", port: "http" });
    expect(probe(api, "livenessProbe")).toEqual({ path: "/healthz", port: "http" });
    for (const w of [cpu(), gpu()]) {
      const c = w.spec.template.spec.containers[0];
      const metrics = c.ports.find((p: Doc) => p.name === "metrics");
      expect(Number(containerEnvValue(manifests(), w, "WORKER_METRICS_PORT"))).toBe(metrics.containerPort);
      for (const kind of ["startupProbe", "readinessProbe", "livenessProbe"]) {
        expect(probe(c, kind), `${w.metadata.name} ${kind}`).toEqual({ path: "/healthz", port: "metrics" });
      }
    }
  });

  it("drains workers for longer than an activity's default timeout, within the pod's grace period", () => {
    const activity = defaultActivityTimeoutSeconds();
    for (const w of [cpu(), gpu()]) {
      const drain = Number(containerEnvValue(manifests(), w, "WORKER_SHUTDOWN_GRACE_SECONDS"));
      expect(drain, w.metadata.name).toBeGreaterThan(activity);
      expect(w.spec.template.spec.terminationGracePeriodSeconds, w.metadata.name).toBeGreaterThan(drain);
    }
  });

  it("schedules GPU workers only on GPU nodes, one GPU each, with the model and index volumes", () => {
    const pod = gpu().spec.template.spec;
    const c = pod.containers[0];
    expect(pod.nodeSelector?.["nvidia.com/gpu.present"]).toBe("true");
    expect(pod.tolerations).toContainEqual(expect.objectContaining({ key: "nvidia.com/gpu", effect: "NoSchedule" }));
    expect(Number(c.resources.limits["nvidia.com/gpu"])).toBeGreaterThanOrEqual(1);
    expect(containerEnvValue(manifests(), gpu(), "WEFT_WORKER_QUEUES")).toBe("gpu");
    expect(polledQueue(manifests(), gpu())).toBe("weft-gpu");
    expect(containerEnvValue(manifests(), gpu(), "WEFT_TASK_QUEUE")).toBe("weft-gpu");
    for (const [variable, volume] of [["MODEL_DIR", "models"], ["INDEX_DIR", "indexes"]]) {
      const mount = c.volumeMounts.find((v: Doc) => v.name === volume);
      expect(containerEnvValue(manifests(), gpu(), variable)).toBe(mount?.mountPath);
      expect(pod.volumes.find((v: Doc) => v.name === volume)?.persistentVolumeClaim).toBeDefined();
    }
    const cpuPod = cpu().spec.template.spec;
    expect(containerEnvValue(manifests(), cpu(), "WEFT_WORKER_QUEUES")).toBe("cpu");
    expect(polledQueue(manifests(), cpu())).toBe("weft-cpu");
    expect(cpuPod.containers[0].resources.limits?.["nvidia.com/gpu"]).toBeUndefined();
  });

  it("scales each worker Deployment with KEDA's temporal scaler on the queue that Deployment polls", () => {
    const scaled = manifests().filter((m) => m.doc.kind === "ScaledObject").map((m) => m.doc);
    expect(scaled.map((s) => s.spec.scaleTargetRef.name).sort()).toEqual([cpu(), gpu()].map((d) => d.metadata.name));
    for (const s of scaled) {
      const target = deployment(s.spec.scaleTargetRef.name);
      expect(target.spec.replicas, `${target.metadata.name}: KEDA owns replicas`).toBeUndefined();
      const [trigger] = s.spec.triggers;
      expect(trigger.type).toBe("temporal");
      const setting = (key: string) =>
        trigger.metadata[key] ?? containerEnvValue(manifests(), target, trigger.metadata[`${key}FromEnv`]);
      expect(setting("endpoint")).toBe(containerEnvValue(manifests(), target, "TEMPORAL_ADDRESS"));
      expect(setting("namespace")).toBe(containerEnvValue(manifests(), target, "TEMPORAL_NAMESPACE"));
      expect(setting("taskQueue")).toBe(polledQueue(manifests(), target));
      expect(Number(trigger.metadata.targetQueueSize)).toBeGreaterThan(0);
    }
  });

  it("sends the API's runs and GPU work to the queues the workers poll", () => {
    const api = deployment(names.api);
    expect(containerEnvValue(manifests(), api, "WEFT_TASK_QUEUE")).toBe(polledQueue(manifests(), cpu()));
    expect(containerEnvValue(manifests(), api, "WEFT_GPU_TASK_QUEUE")).toBe(polledQueue(manifests(), gpu()));
  });

  it("keeps a disruption budget for the API and each worker kind, never blocking a drain outright", () => {
    const budgets = manifests().filter((m) => m.doc.kind === "PodDisruptionBudget").map((m) => m.doc);
    for (const d of [deployment(names.api), cpu(), gpu()]) {
      const labels = d.spec.template.metadata.labels;
      const pdb = budgets.find((b) =>
        Object.entries(b.spec.selector.matchLabels).every(([k, v]) => labels[k] === v) &&
        b.spec.selector.matchLabels["app.kubernetes.io/component"]
      );
      expect(pdb, d.metadata.name).toBeDefined();
      expect(pdb!.spec.maxUnavailable).toBeGreaterThanOrEqual(1);
    }
  });

  it("lets ingress reach only the API, and workers reach the internet but no private or metadata address", () => {
    const policies = manifests().filter((m) => m.doc.kind === "NetworkPolicy").map((m) => m.doc);
    const selects = (p: Doc, d: Doc) => {
      const labels = d.spec.template.metadata.labels;
      const sel = p.spec.podSelector;
      return Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
        (sel.matchExpressions ?? []).every((e: Doc) => e.operator === "In" && e.values.includes(labels[e.key]));
    };
    const ingressRules = (d: Doc) =>
      policies.filter((p) => selects(p, d) && p.spec.policyTypes.includes("Ingress")).flatMap((p) =>
        p.spec.ingress ?? []
      );
    for (const d of [deployment(names.api), cpu(), gpu()]) {
      expect(policies.some((p) => selects(p, d) && p.spec.policyTypes.includes("Ingress")), d.metadata.name).toBe(true);
    }
    const apiPort = deployment(names.api).spec.template.spec.containers[0].ports[0].containerPort;
    expect(ingressRules(deployment(names.api)).flatMap((r: Doc) => r.ports.map((p: Doc) => p.port))).toEqual([apiPort]);
    for (const w of [cpu(), gpu()]) {
      // Nothing but (optionally) a metrics scraper reaches a worker.
      const workerPorts = ingressRules(w).flatMap((r: Doc) => r.ports ?? [{ port: "any" }]).map((p: Doc) => p.port);
      expect(workerPorts.filter((p: unknown) => p !== 9464 && p !== 9465), w.metadata.name).toEqual([]);
      const egress = policies.filter((p) => selects(p, w) && p.spec.policyTypes.includes("Egress"))
        .flatMap((p) => p.spec.egress ?? []);
      expect(egress.length, w.metadata.name).toBeGreaterThan(0);
      for (const rule of egress.filter((r: Doc) => !r.to)) {
        expect(rule.ports?.every((p: Doc) => PORT_ONLY_RULES.has(p.port)), JSON.stringify(rule)).toBe(true);
      }
      for (const address of PRIVATE_ADDRESSES) {
        const open = egress.filter((r: Doc) => r.to && ruleAllows(r, address));
        expect(open, `${w.metadata.name} reaches ${address}`).toEqual([]);
      }
      expect(egress.some((r: Doc) => r.to && !r.ports && ruleAllows(r, "93.184.216.34")), "internet").toBe(true);
    }
  });

  it("runs the migrations Job with the database URL", () => {
    const jobs = manifests().filter((m) => m.doc.kind === "Job").map((m) => m.doc);
    expect(jobs).toHaveLength(1);
    expect(containerEnv(manifests(), jobs[0]).has("DATABASE_URL")).toBe(true);
    expect(jobs[0].spec.template.spec.containers[0].image).toMatch(/migrations/);
  });
}
