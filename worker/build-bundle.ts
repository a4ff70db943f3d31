/** `build-bundle.ts OUT`: writes the workflow bundle a worker loads with WORKFLOW_BUNDLE_PATH. */
import { writeFile } from "node:fs/promises";
import { buildWorkflowBundle } from "./bundle.ts";

const out = process.argv[2] ?? ".state/workflow-bundle.js";
await writeFile(out, await buildWorkflowBundle());
console.log(`workflow bundle written to ${out}`);
