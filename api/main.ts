/** The API process (Deno): read config, connect to PostgreSQL and Temporal, serve. */
import { readFileSync } from "node:fs";
import process from "node:process";
import { Client, Connection } from "@temporalio/client";
import { temporalTlsOptions } from "../core/temporal-connection.ts";
import { connect } from "../db/client.ts";
import { weftDataConverter } from "../core/payload-codec.ts";
import { createApp } from "./app.ts";
import { closeRunEventStreams } from "./runs/event-hub.ts";
import { loadConfig } from "./config.ts";
import { createLogger } from "./logger.ts";

const logger = createLogger({ service: "weft-api" });

let config;
try {
  config = loadConfig(process.env);
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}

const sql = connect(config.DATABASE_URL, { max: 20 });
const connection = await Connection.connect({
  address: config.TEMPORAL_ADDRESS,
  ...temporalTlsOptions(config, (path) => readFileSync(path)),
});
const dataConverter = await weftDataConverter(process.env);
const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter });
const app = createApp({ config, sql, temporal, logger, codec: dataConverter?.payloadCodecs[0] });

const server = Deno.serve({
  port: config.PORT,
  hostname: "0.0.0.0",
  onListen: ({ port }) => logger.info("listening", { port, docs: `http://localhost:${port}/docs` }),
}, app.fetch);

const shutdown = async () => {
  logger.info("shutting down");
  // Open event streams would otherwise hold the graceful shutdown until their runs finish.
  closeRunEventStreams(sql);
  await server.shutdown();
  await Promise.allSettled([sql.end({ timeout: 5 }), connection.close()]);
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", shutdown);
Deno.addSignalListener("SIGTERM", shutdown);
