import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ancestors, buildAdjacency, validateGraph } from "./graph.ts";

const node = (id: string) => ({ id, name: `n_${id}` });
const edge = (a: string, b: string) => ({ source_node_id: a, target_node_id: b });

describe("validateGraph", () => {
  it("orders a diamond topologically and names its start node", () => {
    const nodes = ["a", "b", "c", "d"].map(node);
    const result = validateGraph(nodes, [edge("a", "b"), edge("a", "c"), edge("b", "d"), edge("c", "d")]);
    expect(result.valid).toBe(true);
    expect(result.errors).toEqual([]);
    expect(result.order).toEqual(["a", "b", "c", "d"]);
    expect(result.start_nodes).toEqual(["a"]);
  });

  it("names the nodes on a cycle, in edge order", () => {
    const nodes = ["s", "a", "b", "c"].map(node);
    const result = validateGraph(nodes, [edge("s", "a"), edge("a", "b"), edge("b", "c"), edge("c", "a")]);
    expect(result.valid).toBe(false);
    const cycle = result.errors.find((e) => e.code === "CYCLE")!;
    expect(new Set(cycle.node_ids)).toEqual(new Set(["a", "b", "c"]));
    expect(cycle.message).toContain("n_a → n_b → n_c → n_a");
  });

  it("reports a whole-graph cycle as unreachable too (no start node leads there)", () => {
    const result = validateGraph(["a", "b"].map(node), [edge("a", "b"), edge("b", "a")]);
    expect(result.errors.map((e) => e.code).sort()).toEqual(["CYCLE", "UNREACHABLE_NODE"]);
    expect(result.start_nodes).toEqual([]);
  });

  it("reports disconnected nodes in a multi-node graph", () => {
    const result = validateGraph(["a", "b", "lonely"].map(node), [edge("a", "b")]);
    expect(result.valid).toBe(false);
    expect(result.errors).toEqual([expect.objectContaining({ code: "DISCONNECTED_NODE", node_ids: ["lonely"] })]);
  });

  it("accepts a single node and rejects an empty graph", () => {
    expect(validateGraph([node("a")], []).valid).toBe(true);
    expect(validateGraph([], []).errors[0].code).toBe("EMPTY_GRAPH");
  });

  it("reports dangling edges and duplicate names", () => {
    const result = validateGraph([node("a"), { id: "b", name: "n_a" }], [edge("a", "b"), edge("a", "zzz")]);
    const codes = result.errors.map((e) => e.code);
    expect(codes).toContain("DANGLING_EDGE");
    expect(codes).toContain("DUPLICATE_NODE_NAME");
  });

  it("computes transitive ancestors", () => {
    const nodes = ["a", "b", "c", "d"].map(node);
    const adj = buildAdjacency(nodes, [edge("a", "b"), edge("b", "c"), edge("a", "d")]);
    const up = ancestors(["a", "b", "d", "c"], adj);
    expect([...up.get("c")!].sort()).toEqual(["a", "b"]);
    expect([...up.get("d")!]).toEqual(["a"]);
    expect(up.get("a")!.size).toBe(0);
  });
});

/** Random DAGs: edges only go from a lower to a higher index of a random permutation. */
const randomDag = fc.integer({ min: 2, max: 40 }).chain((n) =>
  fc.tuple(
    fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
    fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: n * 3 }),
  ).map(([perm, pairs]) => {
    const nodes = perm.map((i) => node(String(i)));
    const seen = new Set<string>();
    const edges = [];
    for (const [x, y] of pairs) {
      if (x === y) continue;
      const [lo, hi] = x < y ? [x, y] : [y, x];
      const key = `${lo}-${hi}`;
      if (seen.has(key)) continue;
      seen.add(key);
      edges.push(edge(String(perm[lo]), String(perm[hi])));
    }
    return { nodes, edges, perm };
  })
);

describe("graph properties", () => {
  it("every random DAG has an order that respects every edge and covers every node", () => {
    fc.assert(
      fc.property(randomDag, ({ nodes, edges }) => {
        const result = validateGraph(nodes, edges);
        expect(result.errors.filter((e) => e.code === "CYCLE")).toEqual([]);
        expect(result.order.length).toBe(nodes.length);
        const pos = new Map(result.order.map((id, i) => [id, i]));
        for (const e of edges) expect(pos.get(e.source_node_id)!).toBeLessThan(pos.get(e.target_node_id)!);
      }),
      { numRuns: 300 },
    );
  });

  it("adding a back edge along a path is always rejected and the cycle is named", () => {
    fc.assert(
      fc.property(randomDag, fc.nat(), ({ nodes, edges }, pick) => {
        if (edges.length === 0) return;
        const e = edges[pick % edges.length];
        // A path u → … → v exists (the edge itself); v → u closes a cycle through both.
        const back = edge(e.target_node_id, e.source_node_id);
        const result = validateGraph(nodes, [...edges, back]);
        expect(result.valid).toBe(false);
        const cycle = result.errors.find((x) => x.code === "CYCLE");
        expect(cycle).toBeDefined();
        expect(cycle!.node_ids).toContain(e.source_node_id);
        expect(cycle!.node_ids).toContain(e.target_node_id);
        // The named nodes really form a cycle: consecutive pairs are edges.
        const all = new Set([...edges, back].map((x) => `${x.source_node_id}>${x.target_node_id}`));
        const ids = cycle!.node_ids;
        ids.forEach((id, i) => expect(all.has(`${id}>${ids[(i + 1) % ids.length]}`)).toBe(true));
      }),
      { numRuns: 300 },
    );
  });
});
