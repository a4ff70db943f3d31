import { describe, expect, it } from "vitest";
import { DagScheduler, isTruthy } from "./dag-scheduler.ts";

const e = (id: string, s: string, t: string) => ({ id, source_node_id: s, target_node_id: t });
/** a → b, a → c, b → d, c → d. */
const diamond = () =>
  new DagScheduler(["a", "b", "c", "d"], [e("ab", "a", "b"), e("ac", "a", "c"), e("bd", "b", "d"), e("cd", "c", "d")]);

describe("DagScheduler", () => {
  it("releases start nodes, then a node once all its inputs are resolved", () => {
    const s = diamond();
    expect(s.takeReady()).toEqual(["a"]);
    s.resolveOutgoing("a", true);
    expect(s.takeReady()).toEqual(["b", "c"]);
    s.resolveOutgoing("b", true);
    expect(s.takeReady()).toEqual([]);
    s.resolveOutgoing("c", true);
    expect(s.takeReady()).toEqual(["d"]);
  });

  it("runs a join when at least one incoming edge was taken", () => {
    const s = diamond();
    s.takeReady();
    s.resolveEdge("ab", true);
    s.resolveEdge("ac", false);
    expect(s.takeReady()).toEqual(["b"]);
    expect(s.takeSkipped()).toEqual(["c"]);
    s.resolveOutgoing("b", true);
    expect(s.takeReady()).toEqual(["d"]);
  });

  it("propagates skipping down a branch", () => {
    const s = new DagScheduler(["a", "b", "c", "d"], [e("ab", "a", "b"), e("bc", "b", "c"), e("cd", "c", "d")]);
    s.takeReady();
    s.resolveEdge("ab", false);
    expect(s.takeSkipped()).toEqual(["b", "c", "d"]);
    expect(s.takeReady()).toEqual([]);
  });

  it("treats JSONata results by their truthiness", () => {
    for (const v of [undefined, null, false, 0, "", [], [false]]) expect(isTruthy(v)).toBe(false);
    for (const v of [true, 1, "x", [0, 1], {}]) expect(isTruthy(v)).toBe(true);
  });
});
