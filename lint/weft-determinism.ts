/** Deno lint plugin: determinism rules for Temporal workflow code (workflows/ only; see STYLE.md point 2). */
/// <reference lib="deno.unstable" />
import { builtinModules } from "node:module";

type Node = Deno.lint.Node;
// deno-lint-ignore no-explicit-any
type AnyNode = any;

const ROOT = new URL("..", import.meta.url).pathname;
/** The real workflow code, and the fixtures that exercise these rules; tests beside the workflows run on Node. */
const WORKFLOW_DIRS = [`${ROOT}workflows/`, `${ROOT}lint/fixtures/workflows/`];
const isWorkflowFile = (filename: string) =>
  !filename.endsWith(".test.ts") && WORKFLOW_DIRS.some((dir) => filename.startsWith(dir));

const NODE_BUILTINS = new Set(builtinModules);
const WORKER_SIDE = ["@temporalio/client", "@temporalio/worker", "@temporalio/activity", "@temporalio/testing"];
const TIMERS = new Set(["setTimeout", "setInterval", "setImmediate"]);
const GLOBAL_OBJECTS = new Set(["globalThis", "window", "self", "global"]);
const NONDETERMINISTIC: Record<string, string> = {
  "performance.now": "performance.now() differs on replay; use Date.now(), which Temporal makes deterministic",
  "crypto.randomUUID": "crypto.randomUUID() differs on replay; use uuid4() from @temporalio/workflow",
  "crypto.getRandomValues": "crypto.getRandomValues() differs on replay; use Math.random(), which Temporal seeds",
};
/** Promise-returning functions of @temporalio/workflow, and CancellationScope's promise-returning statics. */
const WORKFLOW_PROMISE_APIS = new Set(["sleep", "condition", "executeChild", "startChild"]);
const SCOPE_PROMISE_STATICS = new Set(["cancellable", "nonCancellable", "withTimeout"]);
const PROMISE_COMBINATORS = new Set(["all", "race", "allSettled", "any"]);
const PROXY_FACTORIES = new Set(["proxyActivities", "proxyLocalActivities"]);

/** Strips what does not change a value: parentheses are not in the AST; `x!`, `x as T`, `x satisfies T`, `a?.b`. */
function unwrap(node: AnyNode): AnyNode {
  while (
    node && ["TSNonNullExpression", "TSAsExpression", "TSSatisfiesExpression", "ChainExpression"].includes(node.type)
  ) node = node.expression;
  return node;
}

function propertyName(member: AnyNode): string | null {
  if (member.computed) return member.property.type === "Literal" ? String(member.property.value) : null;
  return member.property.type === "Identifier" ? member.property.name : null;
}

/** `a.b.c` for a chain of plain member accesses on an identifier, without a leading `globalThis.`; else null. */
function dottedPath(node: AnyNode): string | null {
  node = unwrap(node);
  if (node.type === "Identifier") return node.name;
  if (node.type !== "MemberExpression") return null;
  const object = dottedPath(node.object);
  const name = propertyName(node);
  if (object === null || name === null) return null;
  return GLOBAL_OBJECTS.has(object) ? name : `${object}.${name}`;
}

/** Every module specifier a file loads at run time; `import type`/`export type` are erased and do not count. */
function moduleSources(report: (node: Node, specifier: string) => void): Deno.lint.LintVisitor {
  const literal = (node: AnyNode, source: AnyNode) => {
    if (source?.type === "Literal" && typeof source.value === "string") report(node, source.value);
  };
  return {
    ImportDeclaration: (n) => n.importKind !== "type" && literal(n, n.source),
    ExportNamedDeclaration: (n) => n.exportKind !== "type" && literal(n, n.source),
    ExportAllDeclaration: (n) => n.exportKind !== "type" && literal(n, n.source),
    ImportExpression: (n) => literal(n, n.source),
    CallExpression: (n) => n.callee.type === "Identifier" && n.callee.name === "require" && literal(n, n.arguments[0]),
  };
}

function importRule(forbidden: (specifier: string) => string | null): Deno.lint.Rule {
  return {
    create(ctx) {
      if (!isWorkflowFile(ctx.filename)) return {};
      return moduleSources((node, specifier) => {
        const message = forbidden(specifier);
        if (message) ctx.report({ node, message });
      });
    },
  };
}

const noNodeBuiltins = importRule((s) => {
  const bare = s.startsWith("node:") ? s.slice(5) : s;
  if (!s.startsWith("node:") && !NODE_BUILTINS.has(bare) && !NODE_BUILTINS.has(bare.split("/")[0])) return null;
  return `workflow code must not import the Node built-in "${s}": the workflow sandbox has no I/O; do it in an activity`;
});

const noActivityImports = importRule((s) =>
  s.startsWith(".") && s.split("/").includes("activities")
    ? `workflow code may import "${s}" only with \`import type\`: activities run on the worker, called through proxyActivities`
    : null
);

const noWorkerSideImports = importRule((s) =>
  WORKER_SIDE.some((p) => s === p || s.startsWith(`${p}/`)) || s === "postgres" || s.startsWith("postgres/")
    ? `workflow code must not import "${s}": it is worker/client-side code; use @temporalio/workflow or an activity`
    : null
);

const noTimers: Deno.lint.Rule = {
  create(ctx) {
    if (!isWorkflowFile(ctx.filename)) return {};
    const report = (node: Node, name: string) =>
      ctx.report({ node, message: `${name} is not allowed in workflow code; use sleep() from @temporalio/workflow` });
    return {
      Identifier(node) {
        if (!TIMERS.has(node.name)) return;
        const parent: AnyNode = node.parent;
        const same = (other: AnyNode) => other?.range[0] === node.range[0] && other?.range[1] === node.range[1];
        if (parent.type === "MemberExpression" && !parent.computed && same(parent.property)) {
          // `x.setTimeout`: only the global object's.
          if (parent.object.type === "Identifier" && GLOBAL_OBJECTS.has(parent.object.name)) report(parent, node.name);
          return;
        }
        const declaring = ["ImportSpecifier", "ExportSpecifier", "MethodDefinition", "PropertyDefinition"];
        if (declaring.includes(parent.type)) return;
        if (parent.type === "Property" && !parent.computed && !parent.shorthand && same(parent.key)) return;
        report(node, node.name);
      },
    };
  },
};

const noNondeterministicGlobals: Deno.lint.Rule = {
  create(ctx) {
    if (!isWorkflowFile(ctx.filename)) return {};
    return {
      MemberExpression(node) {
        const path = dottedPath(node);
        if (!path) return;
        const message = NONDETERMINISTIC[path] ??
          (path.startsWith("process.") && path.split(".").length === 2
            ? "process is not available in the workflow sandbox; pass configuration in the workflow's input"
            : null);
        if (message) ctx.report({ node, message });
      },
    };
  },
};

/**
 * Floating promises, without type information: a statement that is only a call known to return a promise.
 * Known: activity proxies (proxyActivities/proxyLocalActivities, their members and functions returning one),
 * sleep/condition/executeChild/startChild, CancellationScope statics and `scope.run`, Promise combinators,
 * `new Promise`, `.then/.catch/.finally`, async functions of the file and functions returning any of these.
 * Names are tracked per file without scopes. `void promise` marks a promise as deliberately not awaited.
 */
const noFloatingPromises: Deno.lint.Rule = {
  create(ctx) {
    if (!isWorkflowFile(ctx.filename)) return {};
    const wfNames = new Map<string, string>(); // local name → name exported by @temporalio/workflow
    const wfNamespaces = new Set<string>();
    const proxies = new Set<string>(); // objects returned by proxyActivities()
    const promiseFns = new Set<string>(); // functions returning a promise
    const factories = new Set<string>(); // functions returning an activity function
    const scopes = new Set<string>(); // `new CancellationScope()`
    const declarators: AnyNode[] = [];
    const functions: { name: string; node: AnyNode }[] = [];
    const returns = new Map<number, AnyNode[]>(); // function start → its returned expressions
    const statements: AnyNode[] = [];

    const wfExport = (callee: AnyNode): string | null => {
      callee = unwrap(callee);
      if (callee.type === "Identifier") return wfNames.get(callee.name) ?? null;
      if (callee.type === "MemberExpression" && callee.object.type === "Identifier") {
        if (wfNamespaces.has(callee.object.name)) return propertyName(callee);
      }
      return null;
    };
    const isProxy = (node: AnyNode): boolean => {
      node = unwrap(node);
      if (node.type === "Identifier") return proxies.has(node.name);
      return node.type === "CallExpression" && PROXY_FACTORIES.has(wfExport(node.callee) ?? "");
    };
    /** `proxy.name`: an activity function. */
    const isActivityFn = (node: AnyNode): boolean => {
      node = unwrap(node);
      if (node.type === "MemberExpression") return isProxy(node.object);
      if (node.type === "Identifier") return promiseFns.has(node.name);
      return node.type === "CallExpression" && unwrap(node.callee).type === "Identifier" &&
        factories.has(unwrap(node.callee).name);
    };
    const isPromise = (node: AnyNode): boolean => {
      node = unwrap(node);
      if (!node) return false;
      if (node.type === "NewExpression") return node.callee.type === "Identifier" && node.callee.name === "Promise";
      if (node.type !== "CallExpression") return false;
      const callee = unwrap(node.callee);
      if (isActivityFn(callee) || WORKFLOW_PROMISE_APIS.has(wfExport(callee) ?? "")) return true;
      if (callee.type !== "MemberExpression") return false;
      const name = propertyName(callee) ?? "";
      const object = unwrap(callee.object);
      if (["then", "catch", "finally"].includes(name)) return true;
      if (object.type !== "Identifier") return false;
      if (object.name === "Promise") return PROMISE_COMBINATORS.has(name);
      if (wfExport(object) === "CancellationScope") return SCOPE_PROMISE_STATICS.has(name);
      return scopes.has(object.name) && name === "run";
    };

    /** Grows the sets of known names until nothing changes (a function may be declared after its use). */
    const infer = () => {
      for (let changed = true; changed;) {
        const before = proxies.size + promiseFns.size + factories.size + scopes.size;
        for (const d of declarators) {
          const init = unwrap(d.init);
          if (d.id.type === "Identifier") {
            if (isProxy(init)) proxies.add(d.id.name);
            else if (isActivityFn(init)) promiseFns.add(d.id.name);
            else if (init.type === "NewExpression" && wfExport(init.callee) === "CancellationScope") {
              scopes.add(d.id.name);
            }
          } else if (d.id.type === "ObjectPattern" && isProxy(init)) {
            for (const p of d.id.properties) {
              const value = p.type === "Property" && p.value.type === "AssignmentPattern" ? p.value.left : p.value;
              if (value?.type === "Identifier") promiseFns.add(value.name);
            }
          }
        }
        for (const { name, node } of functions) {
          const returned = node.body.type === "BlockStatement" ? returns.get(node.range[0]) ?? [] : [node.body];
          if (node.async || returned.some(isPromise)) promiseFns.add(name);
          if (returned.some((r) => unwrap(r).type === "MemberExpression" && isActivityFn(r))) factories.add(name);
        }
        changed = proxies.size + promiseFns.size + factories.size + scopes.size !== before;
      }
    };

    /** The expressions a statement's value is thrown away from: `a, b`, `x && f()`, `c ? f() : g()`. */
    const discarded = (node: AnyNode): AnyNode[] => {
      node = unwrap(node);
      if (node.type === "SequenceExpression") return node.expressions.flatMap(discarded);
      if (node.type === "LogicalExpression") return discarded(node.right);
      if (node.type === "ConditionalExpression") return [...discarded(node.consequent), ...discarded(node.alternate)];
      return [node];
    };

    const FUNCTION_TYPES = ["FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"];
    return {
      ImportDeclaration(node) {
        if (node.source.value !== "@temporalio/workflow" || node.importKind === "type") return;
        for (const s of node.specifiers) {
          if (s.type === "ImportNamespaceSpecifier") wfNamespaces.add(s.local.name);
          else if (s.type === "ImportSpecifier" && s.importKind !== "type") {
            const imported = s.imported.type === "Identifier" ? s.imported.name : s.imported.value;
            wfNames.set(s.local.name, imported);
          }
        }
      },
      VariableDeclarator(node) {
        if (!node.init) return;
        const init = unwrap(node.init);
        if (node.id.type === "Identifier" && ["FunctionExpression", "ArrowFunctionExpression"].includes(init.type)) {
          functions.push({ name: node.id.name, node: init });
        } else declarators.push(node);
      },
      FunctionDeclaration(node) {
        if (node.id && node.body) functions.push({ name: node.id.name, node });
      },
      ReturnStatement(node) {
        if (!node.argument) return;
        const fn = ctx.sourceCode.getAncestors(node).findLast((a: AnyNode) => FUNCTION_TYPES.includes(a.type));
        if (fn) returns.set(fn.range[0], [...returns.get(fn.range[0]) ?? [], node.argument]);
      },
      ExpressionStatement(node) {
        statements.push(node);
      },
      "Program:exit"() {
        infer();
        for (const statement of statements) {
          for (const expr of discarded(statement.expression)) {
            if (!isPromise(expr)) continue;
            ctx.report({
              node: expr,
              message: "this promise floats: await it, return it, or keep it (e.g. for Promise.race)",
              hint: "an unawaited activity or timer escapes cancellation scopes and its failure is lost; " +
                "write `void` before it if that is intended",
            });
          }
        }
      },
    };
  },
};

export default {
  name: "weft",
  rules: {
    "no-node-builtins": noNodeBuiltins,
    "no-activity-imports": noActivityImports,
    "no-worker-side-imports": noWorkerSideImports,
    "no-timers": noTimers,
    "no-nondeterministic-globals": noNondeterministicGlobals,
    "no-floating-promises": noFloatingPromises,
  },
} satisfies Deno.lint.Plugin;
