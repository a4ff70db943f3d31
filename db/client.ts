/** The postgres.js connection both processes use; JSON columns come back parsed. */
import postgres from "postgres";

export type Sql = postgres.Sql<Record<string, unknown>>;

/** What `sql.json` takes. postgres.js types it as its own JSON type; parsed JSON (a request body, a row) is one. */
export type JsonValue = Parameters<Sql["json"]>[0];
export const jsonValue = (value: unknown): JsonValue => value as JsonValue;

/** `options` may add postgres.js settings (a guarded socket, startup parameters, idle timeout). */
export function connect(url: string, options: postgres.Options<Record<string, never>> = {}): Sql {
  return postgres(url, {
    ...options,
    max: options.max ?? 10,
    onnotice: () => {},
    // Timestamps as ISO strings: the API returns them as they are.
    types: {
      date: {
        to: 1184,
        from: [1082, 1083, 1114, 1184],
        serialize: (x: Date | string) => (x instanceof Date ? x.toISOString() : x),
        parse: (x: string) => new Date(x).toISOString(),
      },
    },
  }) as unknown as Sql;
}
