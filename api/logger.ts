/** Structured JSON logs, one line per event, carrying the request id and the trace id where there are ones. */
import { activeTraceId } from "../core/tracing.ts";

export type LogFields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const LEVELS = { info: 1, warn: 2, error: 3, silent: 4 } as const;
export type LogLevel = keyof typeof LEVELS;

export function createLogger(base: LogFields = {}, minLevel: LogLevel = "info"): Logger {
  const write = (level: Exclude<LogLevel, "silent">, msg: string, fields?: LogFields) => {
    if (LEVELS[level] < LEVELS[minLevel]) return;
    const traceId = activeTraceId();
    const line = JSON.stringify({
      time: new Date().toISOString(),
      level,
      msg,
      ...(traceId ? { trace_id: traceId } : {}),
      ...base,
      ...fields,
    });
    if (level === "error") console.error(line);
    else console.log(line);
  };
  return {
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    child: (fields) => createLogger({ ...base, ...fields }, minLevel),
  };
}
