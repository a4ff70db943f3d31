/** Messages between the worker and its expression evaluator processes. */
export type EvaluationTask =
  & { context: Record<string, unknown> }
  & ({ op: "expression"; expression: string; pure: boolean } | { op: "template"; value: unknown });

export type EvaluationRequest = EvaluationTask & { id: number };

export type EvaluationReply =
  | { ready: true }
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; message: string; template: boolean };
