/** Every workflow type the worker registers, by the name the API starts it with. */
export { runDag } from "./run-dag.ts";
export { scheduledRun } from "./scheduled-run.ts";
export { ingestDocuments } from "./ingest-documents.ts";
export { searchCollection } from "./search-collection.ts";
export { pruneRuns } from "./prune-runs.ts";
export { mapBatch } from "./map-batch.ts";

import type { WorkflowSignatures, WorkflowType } from "../core/contract.ts";
import type * as registered from "./index.ts";

/** Fails the type check unless the exports are exactly the contract's workflow types, with its signatures. */
export type RegisteredWorkflows = Exactly<typeof registered>;
type Exactly<T extends WorkflowSignatures & { [K in keyof T]: K extends WorkflowType ? unknown : never }> = T;
