/** Workflow code bundling: ahead of time for production and tests, so a worker starts in about a second. */
import { bundleWorkflowCode } from "@temporalio/worker";
import { fileURLToPath } from "node:url";

export const WORKFLOWS_PATH = fileURLToPath(new URL("../workflows/index.ts", import.meta.url));
/** Encodes failure messages and stack traces (core/failure-converter.ts), in the bundle and in the worker. */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL("../core/failure-converter.ts", import.meta.url));

/** Trace interceptors, active only in workflows started with a trace header (workflows/tracing.ts). */
export const WORKFLOW_INTERCEPTORS_PATH = fileURLToPath(new URL("../workflows/tracing.ts", import.meta.url));

export async function buildWorkflowBundle(): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    workflowInterceptorModules: [WORKFLOW_INTERCEPTORS_PATH],
    logger: undefined,
  });
  return code;
}
