/**
 * Run, node and model metrics recorded where they happen (activities), served with the worker's own on
 * WORKER_METRICS_PORT (worker/health.ts). Labels are node types, statuses and model names: no ids.
 */
import { Counter, Histogram, Registry } from "prom-client";

export const activityMetricsRegistry = new Registry();

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

export const nodeDuration = new Histogram({
  name: "weft_node_duration_seconds",
  help: "Node attempt duration by node type and outcome",
  labelNames: ["type", "status"],
  buckets: SECONDS,
  registers: [activityMetricsRegistry],
});

export const llmTokens = new Counter({
  name: "weft_llm_tokens_total",
  help: "Tokens processed by llm_call nodes, by model and kind (prompt, completion)",
  labelNames: ["model", "kind"],
  registers: [activityMetricsRegistry],
});

export const runsFinished = new Counter({
  name: "weft_runs_finished_total",
  help: "Runs that reached a final status",
  labelNames: ["status"],
  registers: [activityMetricsRegistry],
});

export const runDuration = new Histogram({
  name: "weft_run_duration_seconds",
  help: "Run duration from acceptance to its final status",
  labelNames: ["status"],
  buckets: SECONDS,
  registers: [activityMetricsRegistry],
});
