/**
 * Failure messages and stack traces reach Temporal encoded (through the payload codec), never as plain text: an
 * error can quote a secret, an upstream answer or a user's data. Loaded by path (WorkerOptions.dataConverter and
 * the workflow bundle), so it runs both in the worker and inside the workflow sandbox.
 */
import { DefaultFailureConverter } from "@temporalio/common";

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
