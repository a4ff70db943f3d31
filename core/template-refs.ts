/**
 * What a `{{ expression }}` template refers to, read without JSONata: where the templates in a text are, and which
 * nodes' outputs they read. The workflow bundle imports this file, not core/template.ts: every workflow execution
 * evaluates the modules it loads afresh, and JSONata's initialisation (it parses the signature of each of its
 * functions) was 2.8 % of the workflow thread's time in a profile of bench (c) (docs/benchmarks.md).
 */

/**
 * Every `{{ … }}` in a text: where it starts and ends, and the expression inside (up to the first `}}`). A scan
 * with indexOf rather than a lazy regex, which is quadratic on text full of unclosed `{{` (a user's config).
 */
export function* templateSpans(text: string): Generator<{ start: number; end: number; expression: string }> {
  for (let from = 0;;) {
    const start = text.indexOf("{{", from);
    if (start < 0) return;
    const close = text.indexOf("}}", start + 2);
    // No `}}` after this `{{` means none after any later one either.
    if (close < 0) return;
    yield { start, end: close + 2, expression: text.slice(start + 2, close) };
    from = close + 2;
  }
}

const NODE_REFERENCE = /\bnodes\s*\.\s*`?([A-Za-z_][A-Za-z0-9_]*)`?/g;
const ANY_NODES = /\bnodes\b/g;

/**
 * The node names a config's templates (or an expression) refer to as `nodes.<name>`, so a node receives
 * only the outputs it reads; "all" when `nodes` is used in any other way (e.g. `$keys(nodes)`).
 */
export function referencedNodes(value: unknown, isExpression = false): Set<string> | "all" {
  const names = new Set<string>();
  let all = false;
  const scan = (text: string) => {
    const direct = [...text.matchAll(NODE_REFERENCE)];
    for (const m of direct) names.add(m[1]);
    if ((text.match(ANY_NODES) ?? []).length > direct.length) all = true;
  };
  const visit = (v: unknown) => {
    if (typeof v === "string") {
      if (isExpression) scan(v);
      else for (const { expression } of templateSpans(v)) scan(expression);
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === "object") Object.values(v).forEach(visit);
  };
  visit(value);
  return all ? "all" : names;
}
