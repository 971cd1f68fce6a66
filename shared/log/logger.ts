import { redact, redactDeep } from './redact.js';

/**
 * Structured JSON log lines, one per event, in the shape Cloud Logging reads from stdout:
 * `severity` and `message` are recognised, every other field lands in `jsonPayload` (where the
 * DORA log-based metrics filter on `component`, `event` and `status`). Everything is redacted.
 */
export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
const RANK: Record<Severity, number> = { DEBUG: 0, INFO: 1, WARNING: 2, ERROR: 3 };

export type LogFields = Record<string, unknown> & { runId?: string; stage?: string; pipeline?: string; event?: string };
export type LogSink = (line: string) => void;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields & { error?: unknown }): void;
  /** A logger whose lines all carry `fields` (e.g. the stage and run id). */
  child(fields: LogFields): Logger;
}

let sink: LogSink = (line) => process.stdout.write(`${line}\n`);
let threshold: Severity = parseLevel(process.env.LOG_LEVEL);

/** Redirects every logger's output (the demo keeps the terminal for its timeline). */
export function setLogSink(next: LogSink): void {
  sink = next;
}
export function setLogLevel(level: Severity): void {
  threshold = level;
}

function parseLevel(value: string | undefined): Severity {
  const upper = (value ?? 'INFO').toUpperCase();
  if (upper === 'WARN') return 'WARNING';
  return upper in RANK ? (upper as Severity) : 'INFO';
}

function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? error.cause.message : undefined;
    return { error: error.message, ...(cause ? { cause } : {}), stack_trace: error.stack };
  }
  return error === undefined ? {} : { error: String(error) };
}

export function createLogger(base: LogFields = {}): Logger {
  const write = (severity: Severity, message: string, fields: LogFields & { error?: unknown } = {}) => {
    if (RANK[severity] < RANK[threshold]) return;
    const { error, ...rest } = fields;
    const entry = redactDeep({
      severity,
      message,
      time: new Date().toISOString(),
      component: 'baton',
      ...base,
      ...rest,
      ...errorFields(error),
    });
    entry.message = redact(entry.message);
    sink(JSON.stringify(entry));
  };
  return {
    debug: (message, fields) => write('DEBUG', message, fields),
    info: (message, fields) => write('INFO', message, fields),
    warn: (message, fields) => write('WARNING', message, fields),
    error: (message, fields) => write('ERROR', message, fields),
    child: (fields) => createLogger({ ...base, ...fields }),
  };
}
