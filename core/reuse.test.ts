import { describe, expect, it } from "vitest";
import { planReuse } from "./reuse.ts";
import type { WorkflowSnapshot } from "./snapshot.ts";

const snapshot = (configs: Record<string, unknown>, edges: [string, string, string?][]): WorkflowSnapshot => ({
  workflow_id: "w",
  version: 1,
  hash: "h",
  max_parallel: 16,
  on_failure: "fail_fast",
  nodes: Object.entries(configs).map(([id, config]) => ({
    id,
    name: id,
    type: "http_request",
    config: config as Record<string, unknown>,
  })),
  edges: edges.map(([s, t, condition], i) => ({
    id: `e${i}`,
    source_node_id: s,
    target_node_id: t,
    condition: condition ?? null,
  })),
});

describe("planReuse", () => {
  const base = snapshot({ a: { url: "a" }, b: { url: "b" }, c: { url: "c" }, d: { url: "d" } }, [
    ["a", "b"],
    ["b", "c"],
    ["a", "d"],
  ]);

  it("reuses what succeeded on the same version, re-runs the failure and what follows", () => {
    const ok = new Map<string, unknown>([["a", 1], ["d", 4]]); // b failed, c never ran
    expect(planReuse(base, base, ok)).toEqual({ a: 1, d: 4 });
  });

  it("re-runs a node whose config changed, and everything downstream of it", () => {
    const ok = new Map<string, unknown>([["a", 1], ["b", 2], ["d", 4]]);
    const fixed = snapshot({ a: { url: "a" }, b: { url: "b2" }, c: { url: "c" }, d: { url: "d" } }, [["a", "b"], [
      "b",
      "c",
    ], ["a", "d"]]);
    expect(planReuse(base, fixed, ok)).toEqual({ a: 1, d: 4 });
  });

  it("re-runs a node whose incoming edges or conditions changed, and new nodes", () => {
    const ok = new Map<string, unknown>([["a", 1], ["b", 2], ["c", 3], ["d", 4]]);
    const rewired = snapshot({ a: { url: "a" }, b: { url: "b" }, c: { url: "c" }, d: { url: "d" }, e: { url: "e" } }, [
      ["a", "b", "true"],
      ["b", "c"],
      ["a", "d"],
      ["d", "e"],
    ]);
    expect(planReuse(base, rewired, ok)).toEqual({ a: 1, d: 4 });
  });
});
