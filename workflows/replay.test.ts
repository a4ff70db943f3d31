/** Replays every recorded history (test/histories, see test/record-histories.test.ts) against the current workflow code. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { SYSTEM_TENANT, weftDataConverter } from "../core/payload-codec.ts";
import { loadMasterKeys } from "../core/secrets-crypto.ts";
import { listedDataKeys } from "../db/payload-keys.ts";
import { Worker } from "@temporalio/worker";
import { describe, expect, it } from "vitest";
import { WORKFLOWS_PATH } from "../worker/bundle.ts";
import { TEST_PAYLOAD_KEY } from "../test/env.ts";

const DIR = "test/histories";
// Parsed with the protobufjs copy of @temporalio/proto's types: @temporalio/common 1.24's historyFromJSON (which
// the worker uses for JSON histories) fails with "type must be a Type", having its own copy with this lockfile.
const require = createRequire(import.meta.url);
const History = require("@temporalio/proto").lookupType("temporal.api.history.v1.History");
const { fromJson } = createRequire(require.resolve("@temporalio/proto"))("protobufjs/ext/protojson");
const files = readdirSync(DIR).filter((f) => f.endsWith(".json") && f !== "data-keys.json").sort();
// The current workflows/, bundled here: in the unit project no global setup bundles them, and a bundle file left
// by an earlier integration run may be older than the code.
const code = { workflowsPath: WORKFLOWS_PATH };

describe("replaying recorded histories", () => {
  it("has histories to replay", () => {
    expect(files).toEqual(expect.arrayContaining(["chain.json", "cancelled.json", "fail-fast.json"]));
  });

  it("replays every history without a determinism violation or another replay failure", async () => {
    const histories = files.map((f) => ({
      workflowId: f.replace(/\.json$/, ""),
      history: fromJson(History, JSON.parse(readFileSync(`${DIR}/${f}`, "utf8"))),
    }));
    const failures: string[] = [];
    let replayed = 0;
    // Histories recorded with payload encryption on need the same codec to replay.
    // Histories recorded with per-tenant keys need the data keys saved beside them (record-histories.test.ts).
    const keysFile = `${DIR}/data-keys.json`;
    const dataKeys = existsSync(keysFile)
      ? listedDataKeys(JSON.parse(readFileSync(keysFile, "utf8")), await loadMasterKeys(TEST_PAYLOAD_KEY))
      : undefined;
    const dataConverter = await weftDataConverter(
      { WEFT_PAYLOAD_KEY: TEST_PAYLOAD_KEY },
      dataKeys && { keys: dataKeys, tenantOf: () => Promise.resolve(SYSTEM_TENANT) },
    );
    for await (const result of Worker.runReplayHistories({ ...code, dataConverter }, histories)) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${(result.error as Error).name}: ${result.error}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(files.length);
  });
});
