/** A run's LLM token usage: the sum over its succeeded llm_call executions (what the run API shows as `usage`). */

export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function runUsage(executions: readonly { type: string; status: string; output: unknown }[]): TokenUsage {
  const usage: TokenUsage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  for (const e of executions) {
    if (e.type !== "llm_call" || e.status !== "succeeded") continue;
    const u = (e.output as { usage?: Partial<TokenUsage> } | null)?.usage;
    if (!u) continue;
    usage.prompt_tokens += Number(u.prompt_tokens ?? 0);
    usage.completion_tokens += Number(u.completion_tokens ?? 0);
    usage.total_tokens += Number(u.total_tokens ?? 0);
  }
  return usage;
}
