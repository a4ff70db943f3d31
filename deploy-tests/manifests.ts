/**
 * Reading and checking Kubernetes manifests offline: YAML parsing, validation against the Kubernetes (and KEDA)
 * schemas shipped by kubernetes-models, a strict unknown-field check (`kubeconform -strict`'s job) done by
 * type-checking the manifests against the same package's TypeScript types, and the environment a container sees.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

// deno-lint-ignore no-explicit-any
export type Doc = Record<string, any>;

export interface Manifest {
  source: string;
  doc: Doc;
}

export function parseManifests(text: string, source: string): Manifest[] {
  const manifests: Manifest[] = [];
  for (const parsed of parseAllDocuments(text)) {
    if (parsed.errors.length) throw new Error(`${source}: ${parsed.errors.map((e) => e.message).join("; ")}`);
    const doc = parsed.toJS();
    if (doc !== null && doc !== undefined) manifests.push({ source, doc });
  }
  return manifests;
}

export const loadManifests = (files: string[]) => files.flatMap((f) => parseManifests(readFileSync(f, "utf8"), f));

export const describeManifest = (m: Manifest) => `${m.source} ${m.doc.kind}/${m.doc.metadata?.name}`;

/** The kubernetes-models module of a resource's kind: "apps/v1" + "Deployment" → kubernetes-models/apps/v1/Deployment. */
function modelModule(doc: Doc): string {
  const api = String(doc.apiVersion);
  const base = api.startsWith("keda.sh/")
    ? "@kubernetes-models/keda"
    : api.startsWith("monitoring.coreos.com/")
    ? "@kubernetes-models/prometheus-operator"
    : "kubernetes-models";
  return `${base}/${doc.apiVersion}/${doc.kind}`;
}

/** Validates one manifest against its kind's JSON schema; returns the errors, or null when it is valid. */
export async function schemaErrors(m: Manifest): Promise<string | null> {
  let model: Record<string, new (data: Doc) => { validate(): void }>;
  try {
    model = await import(modelModule(m.doc));
  } catch {
    return `${describeManifest(m)}: no schema for ${m.doc.apiVersion} ${m.doc.kind}`;
  }
  try {
    new model[m.doc.kind](m.doc).validate();
    return null;
  } catch (err) {
    return `${describeManifest(m)}: ${(err as Error).message}`;
  }
}

/**
 * Fields the schemas do not know (a typo such as `readinesProbe` passes a JSON-schema check): each manifest is
 * written as an object literal typed with its kind's interface and `deno check` reports excess properties.
 */
export function unknownFieldErrors(manifests: Manifest[], label: string): string[] {
  const dir = ".state/deploy-tests";
  mkdirSync(dir, { recursive: true });
  const file = `${dir}/strict-${label}-${process.pid}.ts`;
  const imports = manifests.map((m, i) => `import type { I${m.doc.kind} as T${i} } from "${modelModule(m.doc)}";`);
  const bodies = manifests.map((m, i) => `export const m${i}: T${i} = ${JSON.stringify(m.doc)};`);
  writeFileSync(file, [...imports, ...bodies, ""].join("\n"));
  try {
    const run = spawnSync("node_modules/.bin/deno", ["check", file], {
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    if (run.status === 0) return [];
    const out = `${run.stdout}\n${run.stderr}`;
    const errors = [...out.matchAll(/(TS\d+) \[ERROR\]: ([^\n]+)\n\s+at [^\n]*:(\d+):\d+/g)].map(
      ([, code, msg, line]) => {
        const m = manifests[Number(line) - 1 - manifests.length];
        return `${m ? describeManifest(m) : `line ${line}`}: ${code} ${msg}`;
      },
    );
    return errors.length ? errors : [out];
  } finally {
    rmSync(file, { force: true });
  }
}

const WORKLOAD_KINDS = new Set(["Deployment", "Job", "StatefulSet", "DaemonSet"]);

export const workloads = (manifests: Manifest[]) => manifests.filter((m) => WORKLOAD_KINDS.has(m.doc.kind));

export function find(manifests: Manifest[], kind: string, name: string): Doc {
  const found = manifests.find((m) => m.doc.kind === kind && m.doc.metadata?.name === name);
  if (!found) throw new Error(`no ${kind}/${name} among ${manifests.map(describeManifest).join(", ")}`);
  return found.doc;
}

/** Variable names a workload's container sees: its `env` entries plus every key of the ConfigMaps in `envFrom`. */
export function containerEnv(manifests: Manifest[], workload: Doc, container?: string): Set<string> {
  const containers: Doc[] = workload.spec.template.spec.containers;
  const c = container ? containers.find((x) => x.name === container) : containers[0];
  const names = new Set<string>((c?.env ?? []).map((e: Doc) => e.name));
  for (const from of c?.envFrom ?? []) {
    if (!from.configMapRef) throw new Error(`unexpected envFrom ${JSON.stringify(from)}: secrets are set key by key`);
    for (const key of Object.keys(find(manifests, "ConfigMap", from.configMapRef.name).data ?? {})) names.add(key);
  }
  return names;
}

/** The value a container's variable gets (explicit env first, as Kubernetes resolves it), or undefined. */
export function containerEnvValue(manifests: Manifest[], workload: Doc, name: string): string | undefined {
  const c: Doc = workload.spec.template.spec.containers[0];
  const direct = (c.env ?? []).find((e: Doc) => e.name === name);
  if (direct) return direct.value;
  for (const from of c.envFrom ?? []) {
    const value = find(manifests, "ConfigMap", from.configMapRef.name).data?.[name];
    if (value !== undefined) return value;
  }
  return undefined;
}
