/**
 * Refuses input PostgreSQL or the engine cannot take, before any handler sees it: NUL characters (text and
 * jsonb cannot store U+0000) in the path, the query or anywhere in a JSON body, and JSON nested deeper than
 * MAX_JSON_DEPTH (recursive code further on — validation, jsonb, the workflow — would run out of stack).
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./env.ts";
import { ApiError } from "./errors.ts";

export const MAX_JSON_DEPTH = 64;

/** What is wrong with a JSON body, and where (`field`, dotted, when a NUL character names one). */
export interface JsonProblem {
  message: string;
  field?: string;
}

/** Walks the parsed value without recursion, so a hostile depth cannot overflow this check either. */
export function jsonProblem(value: unknown): JsonProblem | null {
  const stack: [unknown, number, string][] = [[value, 1, ""]];
  const at = (path: string, key: string) => (path ? `${path}.${key}` : key);
  while (stack.length) {
    const [v, depth, path] = stack.pop()!;
    if (typeof v === "string") {
      if (v.includes("\0")) {
        return {
          message: `a string in the body contains a NUL character (U+0000) at ${path || "the top"}`,
          field: path,
        };
      }
    } else if (v !== null && typeof v === "object") {
      if (depth > MAX_JSON_DEPTH) return { message: `the body is nested deeper than ${MAX_JSON_DEPTH} levels` };
      for (const [key, child] of Object.entries(v)) {
        if (key.includes("\0")) {
          return {
            message: `a key in the body contains a NUL character (U+0000): ${at(path, key)}`,
            field: at(path, key),
          };
        }
        stack.push([child, depth + 1, at(path, key)]);
      }
    }
  }
  return null;
}

function hasNul(raw: string): boolean {
  if (raw.includes("\0")) return true;
  if (!/%00/i.test(raw)) return false;
  try {
    return decodeURIComponent(raw).includes("\0");
  } catch {
    return true;
  }
}

export const inputGuard = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const url = new URL(c.req.url);
    if (hasNul(url.pathname) || hasNul(url.search)) {
      throw new ApiError("BAD_REQUEST", "the path or query contains a NUL character (%00)");
    }
    const type = c.req.header("content-type") ?? "";
    if (/^application\/([\w.+-]+\+)?json/i.test(type)) {
      // Hono keeps the text: the route's validator parses it again from this cache, not from the stream.
      const text = await c.req.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // Malformed JSON is the validator's to report, with its usual message.
        return await next();
      }
      const problem = jsonProblem(parsed);
      if (problem?.field === undefined && problem) throw new ApiError("BAD_REQUEST", problem.message);
      if (problem) {
        throw new ApiError("VALIDATION_ERROR", problem.message, [
          { field: problem.field, location: "body", message: "contains U+0000 (a NUL character)" },
        ]);
      }
    }
    await next();
  });
