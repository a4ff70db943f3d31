/**
 * `{{ expression }}` templates over a run's context. Expressions are JSONata (a sandboxed query language:
 * no access to JavaScript, globals or I/O), so user text is never evaluated as JavaScript.
 */
import jsonata from "jsonata";
import { templateSpans } from "./template-refs.ts";

// Without JSONata, for the workflow bundle (core/template-refs.ts); re-exported for everyone else.
export { referencedNodes, templateSpans } from "./template-refs.ts";

const WHOLE = /^\s*\{\{([\s\S]*?)\}\}\s*$/;
/**
 * `results.0.text` → `results[0].text`: numeric path segments index arrays, as users expect. A run of them
 * (`ids.0.1`) is one match, so the rewrite is a single linear pass.
 */
const NUMERIC_SEGMENTS = /(?<=[A-Za-z_\]`])(?:\.\d+(?!\w))+/g;

export class TemplateError extends Error {
  constructor(message: string, readonly template: string) {
    super(message);
    this.name = "TemplateError";
  }
}

export type TemplateContext = Record<string, unknown>;

function toJsonata(expression: string): string {
  return expression.trim().replace(NUMERIC_SEGMENTS, (run) => run.replace(/\.(\d+)/g, "[$1]"));
}

const compiled = new Map<string, jsonata.Expression>();

function compile(expression: string): jsonata.Expression {
  let expr = compiled.get(expression);
  if (!expr) {
    try {
      expr = jsonata(toJsonata(expression));
    } catch (err) {
      const message = (err as { message?: string }).message ?? String(err);
      throw new TemplateError(`invalid template expression "{{${expression}}}": ${message}`, expression);
    }
    if (compiled.size > 5000) compiled.clear();
    compiled.set(expression, expr);
  }
  return expr;
}

async function evaluate(expression: string, context: TemplateContext): Promise<unknown> {
  try {
    const value = await compile(expression).evaluate(context);
    // JSONata marks arrays it builds with a non-enumerable flag; a JSON round trip gives plain data.
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  } catch (err) {
    if (err instanceof TemplateError) throw err;
    const message = (err as { message?: string }).message ?? String(err);
    throw new TemplateError(`template "{{${expression}}}" failed: ${message}`, expression);
  }
}

function stringify(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** Renders one string: a string that is exactly one template keeps the value's JSON type. */
export async function renderString(template: string, context: TemplateContext): Promise<unknown> {
  const whole = WHOLE.exec(template);
  if (whole && !whole[1].includes("{{")) {
    const value = await evaluate(whole[1], context);
    return value === undefined ? null : value;
  }
  if (!template.includes("{{")) return template;
  const parts: string[] = [];
  let last = 0;
  for (const span of templateSpans(template)) {
    parts.push(template.slice(last, span.start), stringify(await evaluate(span.expression, context)));
    last = span.end;
  }
  parts.push(template.slice(last));
  return parts.join("");
}

/** Renders every string inside a JSON value (objects, arrays); keys are left as they are. */
export async function renderTemplate(value: unknown, context: TemplateContext): Promise<unknown> {
  if (typeof value === "string") return renderString(value, context);
  if (Array.isArray(value)) return Promise.all(value.map((v) => renderTemplate(v, context)));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await renderTemplate(v, context);
    return out;
  }
  return value;
}

/** Compiles every template in a value without evaluating it; returns the problems found. */
export function checkTemplates(value: unknown, path = "config"): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const visit = (v: unknown, p: string) => {
    if (typeof v === "string") {
      for (const { expression } of templateSpans(v)) {
        try {
          compile(expression);
        } catch (err) {
          problems.push({ path: p, message: (err as Error).message });
        }
      }
    } else if (Array.isArray(v)) v.forEach((item, i) => visit(item, `${p}.${i}`));
    else if (v && typeof v === "object") { for (const [k, item] of Object.entries(v)) visit(item, `${p}.${k}`); }
  };
  visit(value, path);
  return problems;
}

/** Compiles a bare expression (an edge condition); returns the problem, or null when it parses. */
export function checkExpression(expression: string): string | null {
  try {
    compile(expression);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** JSONata's clock and randomness, refused where results must be reproducible (transform nodes). */
const IMPURE_BINDINGS = Object.fromEntries(
  ["now", "millis", "random"].map((name) => [
    name,
    () => {
      throw new TemplateError(`$${name}() is not allowed here: expressions must be deterministic`, name);
    },
  ]),
);

/** Evaluates a bare expression (edge condition, transform) over the context. */
export async function evaluateExpression(
  expression: string,
  context: TemplateContext,
  options: { pure?: boolean } = {},
): Promise<unknown> {
  const expr = compile(expression);
  try {
    const value = await expr.evaluate(context, options.pure ? IMPURE_BINDINGS : undefined);
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  } catch (err) {
    if (err instanceof TemplateError) throw err;
    const message = (err as { message?: string }).message ?? String(err);
    throw new TemplateError(`expression "${expression}" failed: ${message}`, expression);
  }
}
