import { describe, expect, it } from "vitest";
import { nodeReferences, parseNodeConfig } from "./node-types.ts";
import { validateWorkflow } from "./workflow-validation.ts";

const CHILD = "11111111-1111-4111-8111-111111111111";
const issues = (type: Parameters<typeof parseNodeConfig>[0], config: unknown) => {
  const parsed = parseNodeConfig(type, config);
  return parsed.ok ? [] : parsed.issues;
};

describe("control-flow node configs", () => {
  it("applies the map's defaults and validates its per-item node as a node of its own type", () => {
    const parsed = parseNodeConfig("map", {
      items: "{{nodes.fetch.output.body.list}}",
      node: { type: "llm_call", config: { prompt: "Summarise {{item.text}}" } },
    });
    expect(parsed).toEqual({
      ok: true,
      config: {
        items: "{{nodes.fetch.output.body.list}}",
        node: { type: "llm_call", config: { prompt: "Summarise {{item.text}}", temperature: 0, max_tokens: 256 } },
        concurrency: 8,
        on_item_failure: "fail",
      },
    });
    expect(issues("map", { items: "list", node: { type: "http_request", config: {} } })).toEqual([
      expect.objectContaining({ path: "config.node.config.url" }),
    ]);
  });

  it("refuses approval and map per item, and needs exactly one of node or workflow_id", () => {
    expect(issues("map", { items: "x", node: { type: "approval", config: {} } })[0].message).toMatch(
      /cannot run approval per item/,
    );
    expect(issues("map", { items: "x", node: { type: "map", config: {} } })[0].message).toMatch(/sub-workflow/);
    expect(issues("map", { items: "x" })[0].message).toMatch(/exactly one of node/);
    expect(issues("map", { items: "x", workflow_id: CHILD, node: { type: "transform", config: {} } })).not.toEqual([]);
    expect(issues("map", { items: "x", workflow_id: CHILD, concurrency: 0 })[0].path).toBe("config.concurrency");
    expect(issues("map", { items: "x", workflow_id: CHILD })).toEqual([]);
  });

  it("checks sub_workflow, delay and wait_for_event", () => {
    expect(parseNodeConfig("sub_workflow", { workflow_id: CHILD })).toEqual({
      ok: true,
      config: { workflow_id: CHILD, version: "latest", input: {} },
    });
    expect(issues("sub_workflow", { workflow_id: "nope" })[0].path).toBe("config.workflow_id");
    expect(issues("sub_workflow", { workflow_id: CHILD, version: 0 })[0].path).toBe("config.version");
    expect(issues("delay", {})[0].message).toMatch(/exactly one of duration_ms or until/);
    expect(issues("delay", { duration_ms: 5, until: "2026-01-01T00:00:00Z" })).not.toEqual([]);
    expect(issues("delay", { until: "tomorrow" })[0].message).toMatch(/ISO 8601/);
    expect(issues("delay", { until: "{{input.when}}" })).toEqual([]);
    expect(issues("wait_for_event", { event: "approved.by-ops_1" })).toEqual([]);
    expect(issues("wait_for_event", { event: "no spaces" })[0].path).toBe("config.event");
    expect(issues("wait_for_event", { event: "x".repeat(65) })).not.toEqual([]);
    expect(parseNodeConfig("wait_for_event", { event: "go" })).toEqual({
      ok: true,
      config: { event: "go", on_timeout: "fail" },
    });
  });

  it("takes delay and wait_for_event per item, templated over the item where the plain node is literal", () => {
    const item = (type: string, config: unknown) => issues("map", { items: "x", node: { type, config } });
    expect(parseNodeConfig("map", { items: "x", node: { type: "wait_for_event", config: { event: "t.{{item.id}}" } } }))
      .toMatchObject({ ok: true, config: { node: { config: { event: "t.{{item.id}}", on_timeout: "fail" } } } });
    expect(issues("wait_for_event", { event: "t.{{item.id}}" })[0].path).toBe("config.event");
    expect(item("wait_for_event", { event: "no spaces {{item}}" })[0].path).toBe("config.node.config.event");
    expect(item("delay", { duration_ms: "{{item.wait_ms}}" })).toEqual([]);
    expect(issues("delay", { duration_ms: "{{item.wait_ms}}" })[0].path).toBe("config.duration_ms");
    expect(item("delay", { duration_ms: "soon" })[0].path).toBe("config.node.config.duration_ms");
    expect(item("delay", { until: "{{item.at}}" })).toEqual([]);
    expect(item("delay", {})[0].message).toMatch(/exactly one of duration_ms or until/);
    const tooMany = issues("map", { items: "[1..1001]", node: { type: "delay", config: { duration_ms: 1 } } });
    expect(tooMany).toEqual([{ path: "config.items", message: "a map of delay takes at most 1000 items" }]);
    expect(issues("map", { items: "[1..1000]", node: { type: "delay", config: { duration_ms: 1 } } })).toEqual([]);
  });

  it("knows what a map reads: its items, its per-item node (expressions included) and its child input", () => {
    const refs = nodeReferences("map", {
      items: "nodes.fetch.output.list",
      node: { type: "transform", config: { expression: "item & nodes.prefix.output" } },
    });
    expect([...refs as Set<string>].sort()).toEqual(["fetch", "prefix"]);
    const child = nodeReferences("map", {
      items: "{{nodes.a.output}}",
      workflow_id: CHILD,
      input: { x: "{{nodes.b}}" },
    });
    expect([...child as Set<string>].sort()).toEqual(["a", "b"]);
  });
});

describe("validating workflows with control-flow nodes", () => {
  const node = (name: string, type: string, config: unknown) => ({ id: name, name, type, config });

  it("reports a map or sub_workflow over a workflow that does not exist", () => {
    const nodes = [
      node("each", "map", { items: "[1,2]", workflow_id: CHILD }),
      node("call", "sub_workflow", { workflow_id: CHILD }),
    ];
    const result = validateWorkflow(nodes, [{ source_node_id: "each", target_node_id: "call" }], {
      workflowIds: new Set(),
    });
    expect(result.valid).toBe(false);
    expect(result.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/"each".*no workflow/),
      expect.stringMatching(/"call".*no workflow/),
    ]);
    const edges = [{ source_node_id: "each", target_node_id: "call" }];
    expect(validateWorkflow(nodes, edges, { workflowIds: new Set([CHILD]) }).errors).toEqual([]);
  });

  it("checks the map's items and its per-item node's templates", () => {
    const bad = validateWorkflow([
      node("a", "map", { items: "list {{x}}", node: { type: "transform", config: { expression: "item" } } }),
      node("b", "map", { items: "(", node: { type: "transform", config: { expression: "item" } } }),
      node("c", "map", { items: "list", node: { type: "transform", config: { expression: "(" } } }),
      node("d", "map", { items: "list", node: { type: "http_request", config: { url: "{{ ( }}" } } }),
    ], []);
    expect(bad.errors.filter((e) => e.code === "INVALID_CONFIG").map((e) => e.message)).toEqual([
      expect.stringMatching(/"a": config.items: must be one whole template/),
      expect.stringMatching(/"b": config.items/),
      expect.stringMatching(/"c": config.node.config.expression/),
      expect.stringMatching(/"d": config.node.config.url/),
    ]);
  });
});

describe("secrets in control-flow nodes", () => {
  it("are refused in a map's items and child input and in a sub_workflow's input, allowed in an http item node", () => {
    const node = (type: string, config: unknown) => ({ id: "n", name: "n", type, config });
    const problems = (type: string, config: unknown) =>
      validateWorkflow([node(type, config)], []).errors.map((e) => e.message);
    expect(problems("map", { items: "[1]", workflow_id: CHILD, input: { k: "{{secrets.KEY}}" } })[0])
      .toMatch(/config.input.k: secrets can only be used by http_request and db_write nodes, not map/);
    expect(problems("sub_workflow", { workflow_id: CHILD, input: { k: "{{secrets.KEY}}" } })[0])
      .toMatch(/not sub_workflow/);
    expect(problems("map", {
      items: "[1]",
      node: { type: "http_request", config: { url: "https://x.io", headers: { a: "{{secrets.KEY}}" } } },
    })).toEqual([]);
  });
});

describe("a map of sub_workflow nodes", () => {
  it("is stored as the map's workflow form", () => {
    const parsed = parseNodeConfig("map", {
      items: "[1]",
      node: { type: "sub_workflow", config: { workflow_id: CHILD, input: { n: "{{item}}" } } },
    });
    expect(parsed).toEqual({
      ok: true,
      config: {
        items: "[1]",
        concurrency: 8,
        on_item_failure: "fail",
        workflow_id: CHILD,
        version: "latest",
        input: { n: "{{item}}" },
      },
    });
  });
});
