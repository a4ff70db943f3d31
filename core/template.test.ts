import { describe, expect, it } from "vitest";
import {
  checkExpression,
  checkTemplates,
  evaluateExpression,
  referencedNodes,
  renderString,
  renderTemplate,
  TemplateError,
  templateSpans,
} from "./template.ts";

const context = {
  input: { city: "Paris", count: 3, flags: { on: true } },
  nodes: { search: { output: { results: [{ text: "first" }, { text: "second", ids: [[1, 2]] }] } } },
};

describe("renderTemplate", () => {
  it("keeps the JSON type of a value that is one whole template", async () => {
    expect(await renderString("{{input.count}}", context)).toBe(3);
    expect(await renderString(" {{ input.flags }} ", context)).toEqual({ on: true });
    expect(await renderString("{{nodes.search.output.results}}", context)).toEqual(context.nodes.search.output.results);
  });

  it("interpolates templates inside text", async () => {
    expect(await renderString("city={{input.city}}&n={{input.count}}", context)).toBe("city=Paris&n=3");
    expect(await renderString("flags: {{input.flags}}", context)).toBe('flags: {"on":true}');
  });

  it("indexes arrays with numeric path segments", async () => {
    expect(await renderString("{{nodes.search.output.results.0.text}}", context)).toBe("first");
    expect(await renderString("{{nodes.search.output.results.1.ids.0.1}}", context)).toBe(2);
  });

  it("renders missing values as null (whole) or empty text (inside text)", async () => {
    expect(await renderString("{{input.nope}}", context)).toBeNull();
    expect(await renderString("a{{input.nope}}b", context)).toBe("ab");
  });

  it("renders nested objects and arrays, leaving non-strings alone", async () => {
    expect(await renderTemplate({ a: ["{{input.city}}", 1, null], b: { c: "{{input.count * 2}}" }, d: 1.5 }, context))
      .toEqual({ a: ["Paris", 1, null], b: { c: 6 }, d: 1.5 });
  });

  it("never evaluates JavaScript", async () => {
    // Paths read the context's own JSON only: no prototype chain, no globals.
    expect(await renderString("{{ constructor.constructor('return process')() }}", context)).toBeNull();
    expect(await renderString("{{ process.env }}", context)).toBeNull();
    expect(await renderString("{{ globalThis }}", context)).toBeNull();
    await expect(renderString("{{ (function(){ return 1 })() }}", context)).rejects.toThrow(TemplateError);
  });

  it("reports syntax errors with the path where they are", () => {
    expect(checkTemplates({ url: "http://x/{{ input. }}", ok: "{{input.city}}" })).toEqual([
      { path: "config.url", message: expect.stringContaining("invalid template expression") },
    ]);
    expect(checkExpression("input.count > 2")).toBeNull();
    expect(checkExpression("input.count >")).not.toBeNull();
  });
});

describe("expressions", () => {
  it("evaluates conditions and transforms over the context", async () => {
    expect(await evaluateExpression("input.count > 2", context)).toBe(true);
    expect(await evaluateExpression("$count(nodes.search.output.results)", context)).toBe(2);
  });

  it("refuses the clock and randomness in pure mode", async () => {
    await expect(evaluateExpression("$now()", context, { pure: true })).rejects.toThrow(/deterministic/);
    await expect(evaluateExpression("$random()", context, { pure: true })).rejects.toThrow(/deterministic/);
    expect(typeof (await evaluateExpression("$millis()", context))).toBe("number");
  });

  it("finds the nodes a config refers to, or 'all' when it cannot tell", () => {
    expect(referencedNodes({ url: "{{nodes.a.output.x}}/{{ nodes.b.output }}", other: "nodes.c (not a template)" }))
      .toEqual(new Set(["a", "b"]));
    expect(referencedNodes({ url: "{{ $keys(nodes) }}" })).toBe("all");
    expect(referencedNodes("nodes.a.output.ok and nodes.b.output.ok", true)).toEqual(new Set(["a", "b"]));
    expect(referencedNodes({ url: "https://x.io/{{input.id}}" })).toEqual(new Set());
  });
});

/**
 * Scanning a user's text for templates runs in the API (saving a node) and on the workflow thread (which
 * outputs a node reads): it must take linear time whatever the text, as an attacker would write it.
 */
describe("template scanning in linear time", () => {
  const within = (ms: number, work: () => unknown) => {
    const started = performance.now();
    work();
    expect(performance.now() - started).toBeLessThan(ms);
  };

  it("finds the same templates as a lazy {{…}} regex", () => {
    const text = "{{a}} {{ b }}}} {{{c}} {{ unclosed";
    expect([...templateSpans(text)].map((s) => s.expression)).toEqual(
      [...text.matchAll(/\{\{([\s\S]*?)\}\}/g)].map((m) => m[1]),
    );
  });

  it("scans a megabyte of unclosed {{ at once (the lazy regex took seconds on a tenth of it)", () => {
    const config = { body: "{{".repeat(500_000) };
    within(1000, () => referencedNodes(config));
    within(1000, () => expect(checkTemplates(config)).toEqual([]));
  });

  it("rewrites a long run of numeric path segments in one pass", () => {
    within(2000, () => expect(checkExpression(`a${".0".repeat(1000)}`)).toBeNull());
    // Deeper than JSONata's parser goes: refused as invalid, still at once.
    within(2000, () => expect(checkExpression(`a${".0".repeat(10_000)}`)).toMatch(/invalid template expression/));
  });

  it("indexes arrays through runs of numeric segments as before", async () => {
    expect(await renderString("{{nodes.search.output.results.1.ids.0.1}}", context)).toBe(2);
    expect(await evaluateExpression("nodes.search.output.results.0.text", context)).toBe("first");
  });
});
