/** Workflow code bundling: ahead of time for production and tests, so a worker starts in about a second. */
import { bundleWorkflowCode } from "@temporalio/worker";
import { fileURLToPath } from "node:url";

export const WORKFLOWS_PATH = fileURLToPath(new URL("../workflows/index.ts", import.meta.url));

export async function buildWorkflowBundle(): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: undefined });
  return code;
}
