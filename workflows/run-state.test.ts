import { describe, expect, it } from "vitest";
import type { WorkflowSnapshot } from "../core/contract.ts";
import { CARRY_INLINE_CHARS, indexGraph, RunState } from "./run-state.ts";

// a → b → d, a → c (c and d are sinks)
const snapshot: WorkflowSnapshot = {
  workflow_id: "wf",
  version: 1,
  hash: "h",
  max_parallel: 4,
  on_failure: "fail_fast",
  nodes: ["a", "b", "c", "d"].map((id) => ({ id, name: `n_${id}`, type: "transform", config: {} })),
  edges: [
    { id: "ab", source_node_id: "a", target_node_id: "b", condition: null },
    { id: "ac", source_node_id: "a", target_node_id: "c", condition: null },
    { id: "bd", source_node_id: "b", target_node_id: "d", condition: null },
  ],
};
const fresh = () => new RunState(indexGraph(snapshot), "run-1", { x: 1 }, undefined);

describe("run state", () => {
  it("indexes the graph: upstream sets and sinks in snapshot order", () => {
    const graph = indexGraph(snapshot);
    expect([...graph.upstream.get("d")!].sort()).toEqual(["a", "b"]);
    expect(graph.upstream.get("a")!.size).toBe(0);
    expect(graph.sinks.map((n) => n.id)).toEqual(["c", "d"]);
  });

  it("a node's context holds the upstream outputs it reads, by name", () => {
    const state = fresh();
    state.succeeded("a", { v: 1 });
    state.succeeded("b", { v: 2 });
    state.succeeded("c", { v: 3 });
    const d = snapshot.nodes[3];
    expect(state.contextFor(d, "all")).toEqual({
      input: { x: 1 },
      nodes: { n_a: { output: { v: 1 } }, n_b: { output: { v: 2 } } },
      run: { id: "run-1" },
    });
    expect(state.contextFor(d, new Set(["n_b"])).nodes).toEqual({ n_b: { output: { v: 2 } } });
  });

  it("keeps the first failure; a node failing without a reason changes only its status", () => {
    const state = fresh();
    state.failed("a");
    expect(state.status.get("a")).toBe("failed");
    expect(state.failure).toBeNull();
    state.failed("b", "boom");
    state.conditionFailed("c", "bad");
    expect(state.failure).toEqual({ message: 'node "n_b" failed: boom', node: "n_b" });
    expect(state.finalStatus(false)).toBe("failed");
    expect(state.finalStatus(true)).toBe("cancelled");
  });

  it("a condition's failure names the edge's target", () => {
    const state = fresh();
    state.conditionFailed("d", "x is not defined");
    expect(state.failure).toEqual({
      message: 'condition on the edge into "n_d" failed: x is not defined',
      node: "n_d",
    });
  });

  it("the run's output is its sinks' outputs; a run with nothing failed succeeds", () => {
    const state = fresh();
    state.succeeded("a", 1);
    state.succeeded("c", "c-out", "reused");
    expect(state.status.get("c")).toBe("reused");
    expect(state.output()).toEqual({ n_c: "c-out" });
    expect(state.finalStatus(false)).toBe("succeeded");
  });

  it("starts from a carried failure", () => {
    const carried = { succeeded: {}, failed: ["b"], failure: { message: "earlier", node: "n_b" } };
    const state = new RunState(indexGraph(snapshot), "run-1", null, carried);
    state.failed("c", "later");
    expect(state.failure).toEqual(carried.failure);
  });

  it("carries small outputs inline, large ones by reference, references as they are, and failed nodes", () => {
    const state = fresh();
    const large = "x".repeat(CARRY_INLINE_CHARS);
    const ref = { $weft_ref: { run_id: "older", node_id: "a", bytes: 5000 } };
    state.succeeded("a", ref);
    state.succeeded("b", { small: true });
    state.succeeded("c", large);
    state.failed("d", "boom");
    expect(state.carry()).toEqual({
      succeeded: {
        a: ref,
        b: { small: true },
        c: { $weft_ref: { run_id: "run-1", node_id: "c", bytes: JSON.stringify(large).length } },
      },
      failed: ["d"],
      failure: { message: 'node "n_d" failed: boom', node: "n_d" },
    });
  });

  it("an output of null or undefined is carried as it is", () => {
    const state = fresh();
    state.succeeded("a", undefined);
    state.succeeded("b", null);
    expect(state.carry().succeeded).toEqual({ a: undefined, b: null });
    expect(Object.keys(state.carry().succeeded)).toEqual(["a", "b"]);
  });
});
