/** Every workflow type the worker registers, by the name the API starts it with. */
export { runDag } from "./run-dag.ts";
export { scheduledRun } from "./scheduled-run.ts";
export { ingestDocuments } from "./ingest-documents.ts";
export { searchCollection } from "./search-collection.ts";
export { pruneRuns } from "./prune-runs.ts";
