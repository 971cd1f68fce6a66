import { redact } from '../../shared/log/redact.js';
import { isPerService, renderQuery } from './promql.js';

/**
 * Verification of a release in one environment, once its deploy is Synced and Healthy with the
 * release's digests live (issue #15): every check's query runs against the Prometheus HTTP API
 * (`GET <prometheusUrl>/api/v1/query`; in production Managed Prometheus's
 * `https://monitoring.googleapis.com/v1/projects/P/location/global/prometheus`) at the start,
 * then every `intervalSeconds`, and a last time when the `for` window closes.
 *
 * - A check fails as soon as one evaluation breaks its bound (`max`: a value above it;
 *   `min`: a value below it). With several series, every series must stay within the bound and
 *   the reported value is the worst one. Verification then **stops early**: there is nothing to
 *   wait for once a rollback is due, and every second of waiting is a second of bad traffic.
 * - It **fails closed** when a check cannot be evaluated, and the reason says which way:
 *   - `prometheus-unreachable`: no URL, a network error or timeout, or an answer that is not
 *     the Prometheus API's JSON (a proxy's 502 page, an auth error). Fails at once.
 *   - `query-error`: the API answered `status: error` (`bad_data` for a syntax error,
 *     `execution`, `timeout`, …), or a result type without one number per series. Fails at once.
 *   - `no-data`: an empty result, or NaN for every series (0/0: no requests). Before a check's
 *     first data point this is expected (new pods, a rate() that needs two scrapes), so it
 *     fails only if the window closes with no data at all; once the check has had data, a
 *     result that goes empty fails at once (the workload stopped reporting).
 * - `signal` aborts a verification in flight (a newer approved release or a rollback
 *   supersedes it): the result is `{ ok: false, superseded: true }` and no check is blamed.
 */
export type VerifyCheckInput = { name: string; query: string; max?: number; min?: number };

export type FailureKind = 'prometheus-unreachable' | 'query-error' | 'no-data' | 'above-max' | 'below-min';

export type CheckResult = {
  name: string;
  /** Set for a per-service check (its query uses `$service` or `$digest`). */
  service?: string;
  /** The query as sent, variables substituted. */
  query: string;
  /** The last value evaluated (the failing one when it failed), or null when there was none. */
  value: number | null;
  ok: boolean;
  /** Why it is not ok: `prometheus-unreachable: …`, `no-data: …`, `query-error: …`, `above max 0.05: 0.2134`, `below min 0.99: 0.5`. */
  reason?: string;
  failure?: FailureKind;
  /** Evaluations made of this check. */
  evaluations: number;
};

export type VerifyResult = {
  ok: boolean;
  /** A newer release or a rollback aborted the verification (`signal`); nothing failed. */
  superseded?: boolean;
  /** True when a failure ended the window before `for` elapsed. */
  stoppedEarly: boolean;
  checks: CheckResult[];
  /** Rounds of evaluation made. */
  rounds: number;
};

export type VerifyReleaseOptions = {
  /** Base URL of the Prometheus HTTP API; undefined fails every check closed (`prometheus-unreachable`). */
  prometheusUrl: string | undefined;
  checks: readonly VerifyCheckInput[];
  forSeconds: number;
  /** The environment's release under test: service → digest. */
  release: Readonly<Record<string, string>>;
  environment: string;
  /** Services a per-service check is evaluated for. Default every service of `release`. */
  services?: readonly string[];
  /** Seconds between evaluations. Default 5 (never longer than the window). */
  intervalSeconds?: number;
  /** Timeout of one query. Default 10 s. */
  requestTimeoutMs?: number;
  fetch?: typeof fetch;
  /** Extra request headers, e.g. an OAuth bearer token for Managed Prometheus. Never logged. */
  headers?: () => Record<string, string> | Promise<Record<string, string>>;
  now: () => number | Date;
  sleep: (ms: number) => Promise<void>;
  signal?: AbortSignal;
  /** Called after every round, for progress output. */
  onRound?: (round: number, checks: readonly CheckResult[]) => void;
};

export const DEFAULT_INTERVAL_SECONDS = 5;

type Probe = { check: VerifyCheckInput; service?: string; query: string };
type SeriesValue = { value: number; labels?: Record<string, string> };
/** One evaluation of a query: the numbers it gave (NaN series left out), no data, or why it could not be evaluated. */
export type Evaluation = { kind: 'value'; samples: SeriesValue[] } | { kind: 'no-data'; detail: string } | { kind: 'failure'; failure: 'prometheus-unreachable' | 'query-error'; detail: string };
type ProbeState = { probe: Probe; value: number | null; evaluations: number; seenData: boolean; failure?: FailureKind; reason?: string };

/** The evaluations a release needs: one per check, or one per service for a per-service check. */
export function probesFor(checks: readonly VerifyCheckInput[], release: Readonly<Record<string, string>>, environment: string, services?: readonly string[]): Probe[] {
  const names = services ? [...services] : Object.keys(release).sort();
  for (const service of names) if (!release[service]) throw new Error(`failed to plan verification: service ${service} is not in the release`);
  const whole = { digests: names.map((name) => release[name]!).join('|'), services: names.join('|'), environment };
  return checks.flatMap((check) =>
    isPerService(check.query)
      ? names.map((service) => ({ check, service, query: renderQuery(check.query, { ...whole, service, digest: release[service]! }) }))
      : [{ check, query: renderQuery(check.query, whole) }],
  );
}

/** Four significant digits, for reasons people read; `value` keeps the exact number. */
export function formatValue(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(4))) : String(value);
}

function labelText(labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length ? ` (${entries.map(([key, value]) => `${key}="${value}"`).join(',')})` : '';
}

type ErrorLike = { name?: unknown; message?: unknown; cause?: unknown };

/** Errors from `fetch` may come from another realm (jest's vm, a worker), so read them by shape, not `instanceof`. */
function describeFetchError(error: unknown, timeoutMs: number): string {
  const err = (typeof error === 'object' && error !== null ? error : {}) as ErrorLike;
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const cause = (typeof err.cause === 'object' && err.cause !== null ? err.cause : {}) as ErrorLike;
  if (typeof cause.message === 'string' && cause.message) return cause.message;
  if (typeof err.message === 'string' && err.message) return err.message;
  return String(error);
}

type ApiAnswer = {
  status?: string;
  errorType?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
};

type Sample = { metric?: Record<string, string>; value?: [number, string] };

/** One query, turned into a value, no data, or a failure to evaluate. Exported for tests. */
export async function evaluateQuery(prometheusUrl: string, query: string, options: { fetch?: typeof fetch; headers?: Record<string, string>; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Evaluation> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const url = `${prometheusUrl.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(query)}`;
  const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
  let response: Response;
  let text: string;
  try {
    response = await (options.fetch ?? fetch)(url, { headers: { accept: 'application/json', ...options.headers }, signal: AbortSignal.any(signals) });
    text = await response.text();
  } catch (error) {
    return { kind: 'failure', failure: 'prometheus-unreachable', detail: redact(describeFetchError(error, timeoutMs)) };
  }
  let answer: ApiAnswer;
  try {
    answer = JSON.parse(text) as ApiAnswer;
  } catch {
    return { kind: 'failure', failure: 'prometheus-unreachable', detail: `HTTP ${response.status}, not a Prometheus API answer: ${redact(text.slice(0, 120).replace(/\s+/g, ' '))}` };
  }
  if (answer.status === 'error') return { kind: 'failure', failure: 'query-error', detail: redact(`${answer.errorType ?? 'error'}: ${answer.error ?? `HTTP ${response.status}`}`) };
  if (answer.status !== 'success' || !answer.data) return { kind: 'failure', failure: 'prometheus-unreachable', detail: `HTTP ${response.status}, not a Prometheus API answer: ${redact(text.slice(0, 120).replace(/\s+/g, ' '))}` };
  const { resultType, result } = answer.data;
  let samples: SeriesValue[];
  if (resultType === 'scalar') {
    const pair = result as [number, string] | undefined;
    samples = pair ? [{ value: Number.parseFloat(pair[1]) }] : [];
  } else if (resultType === 'vector') {
    samples = ((result as Sample[] | undefined) ?? []).map((sample) => ({ value: Number.parseFloat(sample.value?.[1] ?? 'NaN'), labels: sample.metric }));
  } else {
    return { kind: 'failure', failure: 'query-error', detail: `the query returns a ${resultType}; a check needs one number per series` };
  }
  if (samples.length === 0) return { kind: 'no-data', detail: 'empty result' };
  const numbers = samples.filter((sample) => !Number.isNaN(sample.value));
  if (numbers.length === 0) return { kind: 'no-data', detail: `NaN for every series (${samples.length}); no requests in the range?` };
  return { kind: 'value', samples: numbers };
}

/** The series furthest on the wrong side: the highest for a `max` check, the lowest for a `min` check. */
function worst(check: VerifyCheckInput, samples: SeriesValue[]): SeriesValue {
  const pick = check.max !== undefined ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
  return samples.reduce((best, sample) => (pick(sample.value, best.value) ? sample : best));
}

function abortable(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}

function resultOf(state: ProbeState, stoppedEarly: boolean): CheckResult {
  const { probe } = state;
  const base = { name: probe.check.name, ...(probe.service ? { service: probe.service } : {}), query: probe.query, value: state.value, evaluations: state.evaluations };
  if (state.failure) return { ...base, ok: false, failure: state.failure, reason: state.reason! };
  if (!state.seenData) return { ...base, ok: false, reason: stoppedEarly ? 'no-data yet when verification stopped at the first failing check' : 'not evaluated' };
  return { ...base, ok: true };
}

export async function verifyRelease(options: VerifyReleaseOptions): Promise<VerifyResult> {
  const probes = probesFor(options.checks, options.release, options.environment, options.services);
  const now = () => Number(options.now());
  const states: ProbeState[] = probes.map((probe) => ({ probe, value: null, evaluations: 0, seenData: false }));
  const results = (stoppedEarly: boolean) => states.map((state) => resultOf(state, stoppedEarly));
  const intervalMs = Math.max(0, (options.intervalSeconds ?? DEFAULT_INTERVAL_SECONDS) * 1000);
  const deadline = now() + Math.max(0, options.forSeconds) * 1000;
  const superseded = (rounds: number): VerifyResult => ({ ok: false, superseded: true, stoppedEarly: true, checks: results(true), rounds });

  // A check with no evaluation at all (a per-service check of an empty release) cannot pass.
  const unplanned = options.checks.filter((check) => !probes.some((probe) => probe.check === check));
  if (unplanned.length) {
    const checks = unplanned.map((check) => ({ name: check.name, query: check.query, value: null, ok: false, failure: 'no-data' as const, reason: 'no-data: the release has no services to evaluate this check for', evaluations: 0 }));
    return { ok: false, stoppedEarly: false, checks: [...results(false), ...checks], rounds: 0 };
  }

  let rounds = 0;
  for (;;) {
    if (options.signal?.aborted) return superseded(rounds);
    const final = now() >= deadline;
    rounds++;
    const headers = options.headers ? await options.headers() : undefined;
    const open = states.filter((state) => !state.failure);
    const evaluations = await Promise.all(
      open.map((state) =>
        options.prometheusUrl
          ? evaluateQuery(options.prometheusUrl, state.probe.query, { fetch: options.fetch, headers, timeoutMs: options.requestTimeoutMs, signal: options.signal })
          : Promise.resolve<Evaluation>({ kind: 'failure', failure: 'prometheus-unreachable', detail: 'no Prometheus URL: set verify.prometheus.url or PROMETHEUS_URL' }),
      ),
    );
    if (options.signal?.aborted) return superseded(rounds);
    open.forEach((state, index) => record(state, evaluations[index]!, final));
    options.onRound?.(rounds, results(false));
    const failed = states.some((state) => state.failure);
    if (failed || final) {
      const stoppedEarly = failed && !final;
      const checks = results(stoppedEarly);
      return { ok: checks.every((check) => check.ok), stoppedEarly, checks, rounds };
    }
    await abortable(options.sleep(Math.min(intervalMs, Math.max(0, deadline - now()))), options.signal);
  }
}

function record(state: ProbeState, evaluation: Evaluation, final: boolean): void {
  state.evaluations++;
  const check = state.probe.check;
  if (evaluation.kind === 'failure') {
    state.failure = evaluation.failure;
    state.reason = `${evaluation.failure}: ${evaluation.detail}`;
    return;
  }
  if (evaluation.kind === 'no-data') {
    if (state.seenData) {
      state.failure = 'no-data';
      state.reason = `no-data: ${evaluation.detail} after ${state.evaluations - 1} evaluation(s) with data`;
    } else if (final) {
      state.failure = 'no-data';
      state.reason = `no-data: ${evaluation.detail} (${state.evaluations} evaluation(s))`;
    }
    return;
  }
  const { samples } = evaluation;
  const chosen = worst(check, samples);
  state.seenData = true;
  state.value = chosen.value;
  const series = samples.length > 1 ? labelText(chosen.labels) : '';
  if (check.max !== undefined && chosen.value > check.max) {
    state.failure = 'above-max';
    state.reason = `above max ${check.max}: ${formatValue(chosen.value)}${series}`;
  } else if (check.min !== undefined && chosen.value < check.min) {
    state.failure = 'below-min';
    state.reason = `below min ${check.min}: ${formatValue(chosen.value)}${series}`;
  }
}

/**
 * What failed, for a Slack message or a stage detail: each failing check with its service and
 * reason, e.g. `error-ratio (frontend): above max 0.05: 0.2134; latency-p99: no-data: empty result (3 evaluation(s))`.
 */
export function describeVerification(result: VerifyResult): string {
  if (result.superseded) return 'superseded by a newer release or a rollback before it finished';
  const failing = result.checks.filter((check) => !check.ok);
  if (failing.length === 0) return `${result.checks.length} check(s) passed`;
  return failing.map((check) => `${check.name}${check.service ? ` (${check.service})` : ''}: ${check.reason ?? 'failed'}`).join('; ');
}
