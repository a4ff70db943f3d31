/**
 * Looking for a secret everywhere a run leaves traces: the API's answers, its event stream, the tables, and the
 * raw Temporal history with every payload decoded. Each spelling is computed here independently of core/redact.ts
 * (Node's Buffer and the URL classes), so the redactor is checked against the encodings, not against itself.
 */
import type { Client } from "@temporalio/client";
import type { Payload } from "@temporalio/common";
import type { Sql } from "../db/client.ts";

/** The ways a secret can be spelled on its way out of a node. */
export function secretSpellings(secret: string): Record<string, string> {
  const b64Core = (prefix: number, alphabet: "base64" | "base64url") => {
    const encoded = Buffer.from("x".repeat(prefix) + secret).toString(alphabet).replace(/=+$/, "");
    return encoded.slice(Math.ceil((8 * prefix) / 6), -2);
  };
  const json = JSON.stringify(secret).slice(1, -1);
  const spellings: Record<string, string> = {
    plain: secret,
    upper: secret.toUpperCase(),
    lower: secret.toLowerCase(),
    uri_component: encodeURIComponent(secret),
    uri: encodeURI(secret),
    form: new URLSearchParams({ v: secret }).toString().slice(2),
    url_query: new URL(`http://h/?v=${secret}`).search.slice(3),
    percent_twice: encodeURIComponent(encodeURIComponent(secret)),
    json_escaped: json,
    json_twice: JSON.stringify(json).slice(1, -1),
    hex: Buffer.from(secret).toString("hex"),
    hex_upper: Buffer.from(secret).toString("hex").toUpperCase(),
  };
  for (const prefix of [0, 1, 2]) {
    spellings[`base64_${prefix}`] = b64Core(prefix, "base64");
    spellings[`base64url_${prefix}`] = b64Core(prefix, "base64url");
  }
  return spellings;
}

/** The spellings of `secret` found in `text`, as "where: spelling" lines. */
export function findSpellings(where: string, text: string, secret: string): string[] {
  return Object.entries(secretSpellings(secret))
    .filter(([, spelled]) => spelled && text.includes(spelled))
    .map(([name]) => `${where}: ${name}`);
}

/** Every row a run left in the tables a secret could reach, as text. */
export async function runRowsText(sql: Sql, runId: string): Promise<Record<string, string>> {
  const [run] = await sql`SELECT row_to_json(r)::text AS t FROM workflow_runs r WHERE id = ${runId}`;
  const execs = await sql`SELECT row_to_json(n)::text AS t FROM node_executions n WHERE run_id = ${runId}`;
  const events = await sql`SELECT row_to_json(e)::text AS t FROM run_events e WHERE run_id = ${runId}`;
  const join = (rows: readonly { t: string }[]) => rows.map((r) => r.t).join("\n");
  return {
    workflow_runs: run.t as string,
    node_executions: join(execs as never),
    run_events: join(events as never),
  };
}

const isPayload = (v: unknown): v is Payload =>
  !!v && typeof v === "object" && (v as Payload).data instanceof Uint8Array &&
  !!(v as Payload).metadata && typeof (v as Payload).metadata === "object";

/**
 * The raw history of a workflow as text: every string in it, every byte field read as UTF-8, and every payload
 * decoded with the client's codec (failures' encoded attributes included) — what someone reading Temporal's
 * database with the payload key would see.
 */
export async function historyText(temporal: Client, workflowId: string): Promise<string> {
  const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
  const codecs = temporal.options.loadedDataConverter.payloadCodecs;
  const parts: string[] = [];
  const decoder = new TextDecoder();
  const visit = async (v: unknown): Promise<void> => {
    if (typeof v === "string") parts.push(v);
    else if (v instanceof Uint8Array) parts.push(decoder.decode(v));
    else if (Array.isArray(v)) { for (const x of v) await visit(x); }
    else if (v && typeof v === "object") {
      if (isPayload(v)) {
        let decoded = [v];
        for (const codec of [...codecs].reverse()) decoded = await codec.decode(decoded);
        // protobufjs decodes an empty bytes field as a plain empty array.
        parts.push(Buffer.from(decoded[0].data ?? []).toString("utf8"));
      }
      for (const x of Object.values(v)) await visit(x);
    }
  };
  await visit(history);
  return parts.join("\n");
}
