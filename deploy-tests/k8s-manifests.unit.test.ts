/** k8s/: every manifest parses, validates against the Kubernetes and KEDA schemas, and keeps the deployment rules. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type Doc, loadManifests, schemaErrors, unknownFieldErrors } from "./manifests.ts";
import { deploymentRules } from "./rules.ts";

const DIR = "k8s";
const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml").sort();
const manifests = loadManifests(files.map((f) => `${DIR}/${f}`));
const kustomization = parse(readFileSync(`${DIR}/kustomization.yaml`, "utf8"));
const applied = manifests.filter((m) => kustomization.resources.includes(m.source.slice(DIR.length + 1)));

describe("k8s/", () => {
  it("parses, and every manifest (examples included) validates against its kind's schema", async () => {
    expect(manifests.length).toBeGreaterThanOrEqual(19);
    const errors = (await Promise.all(manifests.map(schemaErrors))).filter(Boolean);
    expect(errors).toEqual([]);
  });

  it("uses no field the schemas do not define", () => {
    expect(unknownFieldErrors(manifests, "k8s")).toEqual([]);
  }, 60_000);

  it("applies every manifest but the examples, in no fixed namespace", () => {
    expect(kustomization).toMatchObject({ apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization" });
    expect(kustomization.namespace).toBeUndefined();
    for (const r of kustomization.resources) expect(existsSync(`${DIR}/${r}`), r).toBe(true);
    expect([...kustomization.resources].sort()).toEqual(files.filter((f) => !f.includes(".example.")));
    for (const m of manifests) expect(m.doc.metadata.namespace, m.source).toBeUndefined();
    const images = manifests.flatMap((m) => m.doc.spec?.template?.spec?.containers ?? []).map((c: Doc) => c.image);
    for (const image of images) {
      expect(kustomization.images.map((i: Doc) => i.name)).toContain(image.split(":")[0]);
    }
  });

  it("reads every secret key from the Secret its example documents", () => {
    const [example] = manifests.filter((m) => m.source.endsWith("secret.example.yaml")).map((m) => m.doc);
    const refs = applied.flatMap((m) => m.doc.spec?.template?.spec?.containers ?? [])
      .flatMap((c: Doc) => c.env ?? []).map((e: Doc) => e.valueFrom?.secretKeyRef).filter(Boolean);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref.name).toBe(example.metadata.name);
      expect(Object.keys(example.stringData)).toContain(ref.key);
    }
  });

  describe("deployment rules", () => {
    deploymentRules(() => applied);
  });
});
