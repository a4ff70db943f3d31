/**
 * Where a secret may appear in a node config: only as a whole template `{{secrets.NAME}}` inside an
 * http_request or db_write config. An expression that could compute over a secret ($base64encode, $uppercase,
 * $substring, $reverse…) could turn it into a form no redaction recognises, so secrets never enter an expression:
 * placements are substituted after templates render, from a map the expressions cannot see.
 */

/** Node types whose configs may carry secrets (headers, url, query, body; database fields). */
export const SECRET_NODE_TYPES: readonly string[] = ["http_request", "db_write"];

const TEMPLATE = /\{\{([\s\S]*?)\}\}/g;
const PLACEMENT = /^\s*secrets\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)\s*$/;
/** A mention of the `secrets` binding inside an expression (`input.secrets` is a field of something else). */
const MENTION = /(?<![A-Za-z0-9_$.])secrets(?![A-Za-z0-9_])/;

export interface SecretProblem {
  path: string;
  message: string;
}

const ONLY_PLACEMENT = 'a secret may only be placed whole, as "{{secrets.NAME}}"; expressions over secrets are ' +
  "refused so that nothing can re-encode a secret past redaction";

/** Problems with the secrets a config uses; `expressionFields` hold bare JSONata expressions. */
export function secretPlacementProblems(
  type: string,
  config: Record<string, unknown>,
  expressionFields: readonly string[] = [],
): SecretProblem[] {
  const problems: SecretProblem[] = [];
  const allowed = SECRET_NODE_TYPES.includes(type);
  const visit = (v: unknown, path: string, isExpression: boolean) => {
    if (typeof v === "string") {
      if (isExpression) {
        if (MENTION.test(v)) {
          problems.push({ path, message: `secrets cannot be used in an expression: ${ONLY_PLACEMENT}` });
        }
        return;
      }
      for (const match of v.matchAll(TEMPLATE)) {
        if (!MENTION.test(match[1])) continue;
        if (!allowed) {
          problems.push({
            path,
            message: `secrets can only be used by ${SECRET_NODE_TYPES.join(" and ")} nodes, not ${type}`,
          });
        } else if (!PLACEMENT.test(match[1])) {
          problems.push({ path, message: `"{{${match[1].trim()}}}": ${ONLY_PLACEMENT}` });
        }
      }
    } else if (Array.isArray(v)) v.forEach((item, i) => visit(item, `${path}.${i}`, isExpression));
    else if (v && typeof v === "object") {
      for (const [k, item] of Object.entries(v)) visit(item, `${path}.${k}`, isExpression);
    }
  };
  for (const [key, value] of Object.entries(config)) visit(value, `config.${key}`, expressionFields.includes(key));
  return problems;
}

/** The problem with an edge condition that mentions secrets, or null. */
export function conditionSecretProblem(condition: string): string | null {
  return MENTION.test(condition) ? `secrets cannot be used in a condition: ${ONLY_PLACEMENT}` : null;
}

/** Names of the secrets a config places (`{{secrets.NAME}}`). */
export function placedSecrets(config: unknown): string[] {
  const names = new Set<string>();
  const visit = (v: unknown) => {
    if (typeof v === "string") {
      for (const match of v.matchAll(TEMPLATE)) {
        const name = PLACEMENT.exec(match[1])?.[1];
        if (name) names.add(name);
      }
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === "object") Object.values(v).forEach(visit);
  };
  visit(config);
  return [...names];
}

/**
 * Renders a config whose templates may place secrets: each placement becomes a random marker before `render`
 * (which evaluates the other templates over a context without secrets), and the marker becomes the value after.
 */
export async function renderWithSecrets(
  config: Record<string, unknown>,
  secrets: Record<string, string>,
  render: (config: Record<string, unknown>) => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  if (!Object.keys(secrets).length) return render(config);
  const nonce = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0"))
    .join("");
  const marker = (name: string) => `\u0000weft-secret-${nonce}-${name}\u0000`;
  const markerPattern = new RegExp(`\u0000weft-secret-${nonce}-([A-Za-z_][A-Za-z0-9_]*)\u0000`, "g");
  const mark = (v: unknown): unknown => {
    if (typeof v === "string") {
      return v.replace(TEMPLATE, (whole, inner: string) => {
        const name = PLACEMENT.exec(inner)?.[1];
        return name && Object.hasOwn(secrets, name) ? marker(name) : whole;
      });
    }
    if (Array.isArray(v)) return v.map(mark);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mark(x)]));
    return v;
  };
  const fill = (v: unknown): unknown => {
    if (typeof v === "string") return v.replace(markerPattern, (_m, name: string) => secrets[name]);
    if (Array.isArray(v)) return v.map(fill);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    return v;
  };
  return fill(await render(mark(config) as Record<string, unknown>)) as Record<string, unknown>;
}
