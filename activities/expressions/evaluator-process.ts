/**
 * The child process that evaluates users' expressions (activities/expressions/pool.ts starts it): a runaway
 * expression spends this process's time and memory, never the worker's, and is killed with it.
 */
import { Worker } from "node:worker_threads";
import { evaluateExpression, renderTemplate } from "../../core/template.ts";
import type { EvaluationReply, EvaluationRequest } from "./protocol.ts";

const send = (reply: EvaluationReply) => process.send!(reply);

process.on("message", async (request: EvaluationRequest) => {
  try {
    const value = request.op === "template"
      ? await renderTemplate(request.value, request.context)
      : await evaluateExpression(request.expression, request.context, { pure: request.pure });
    send({ id: request.id, ok: true, value });
  } catch (err) {
    const e = err as { message?: string; name?: string };
    send({ id: request.id, ok: false, message: e?.message ?? String(err), template: e?.name === "TemplateError" });
  }
});
// The worker is gone (or let this process go): nothing is left to answer.
process.on("disconnect", () => process.exit(0));
// A worker killed outright (kill -9) while this process runs away would leave it running: a thread of its own,
// which runs while the main thread is stuck in a user's expression, ends the process once its parent is gone.
new Worker(
  `const { parent } = require("node:worker_threads").workerData;
  setInterval(() => { if (process.ppid !== parent) process.kill(process.pid, "SIGKILL"); }, 500);`,
  { eval: true, workerData: { parent: process.ppid } },
).unref();
send({ ready: true });
