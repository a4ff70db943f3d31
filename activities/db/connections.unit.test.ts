/** What the worker accepts as db_write connections, in its settings and in a node (no stack needed). */
import { describe, expect, it } from "vitest";
import { loadWorkerConfig } from "../../worker/config.ts";
import { checkConnection } from "./index.ts";

describe("db_write connection settings", () => {
  it("a node saved with a secret or URL as connection fails in the worker too, saying what replaced it", () => {
    for (const connection of ["{{secrets.ORDERS_DB}}", "postgres://postgres@127.0.0.1:5432/weft"]) {
      expect(() => checkConnection({ connection })).toThrow(
        /no longer takes a URL or a secret .*WEFT_DB_CONNECTIONS/,
      );
    }
    expect(() => checkConnection({ connection: "a b" })).toThrow(/name of an operator-declared database connection/);
    expect(() => checkConnection({ connection: "orders" })).not.toThrow();
    expect(() => checkConnection({})).not.toThrow();
  });

  it("WEFT_DB_CONNECTIONS and the egress lists are checked when the worker starts", () => {
    const config = loadWorkerConfig({
      WEFT_DB_CONNECTIONS: '{"orders": "postgres://app@db.internal:5432/orders"}',
      WEFT_EGRESS_ALLOW: "10.0.0.0/8:5432,api.internal",
    });
    expect(config.WEFT_DB_CONNECTIONS).toEqual({ orders: "postgres://app@db.internal:5432/orders" });
    expect(() => loadWorkerConfig({ WEFT_DB_CONNECTIONS: "orders=postgres://x" })).toThrow(
      /WEFT_DB_CONNECTIONS: not JSON/,
    );
    expect(() => loadWorkerConfig({ WEFT_DB_CONNECTIONS: '{"orders": "mysql://x/y"}' })).toThrow(/postgres:\/\/ URL/);
    expect(() => loadWorkerConfig({ WEFT_DB_CONNECTIONS: '{"a b": "postgres://x/y"}' })).toThrow(/connection names/);
    expect(() => loadWorkerConfig({ WEFT_DB_CONNECTIONS: '{"sandbox": "postgres://x/y"}' })).toThrow(/reserved/);
    expect(() => loadWorkerConfig({ WEFT_EGRESS_ALLOW: "10.0.0.0/8:99999" })).toThrow(/WEFT_EGRESS_ALLOW: .*port/);
    expect(() => loadWorkerConfig({ WEFT_EGRESS_DENY_EXTRA: "not a host" })).toThrow(/WEFT_EGRESS_DENY_EXTRA/);
  });
});
