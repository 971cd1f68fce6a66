import { describeVerification, verifyRelease } from '../../domain/verify/verify.js';
import type { VerifyReleaseOptions } from '../../domain/verify/verify.js';

/**
 * The timing and fail-closed rules of verifyRelease, with a scripted Prometheus API and a fake
 * clock (the real-Prometheus cases live in verify.prometheus.test.ts): when evaluations
 * happen, when no data is tolerated, and how answers that are not numbers are reported.
 */
const D = `sha256:${'a'.repeat(64)}`;
type Answer = { status?: number; body: unknown } | Error;

const vector = (...values: Array<string | [string, Record<string, string>]>) => ({
  body: { status: 'success', data: { resultType: 'vector', result: values.map((value) => (Array.isArray(value) ? { metric: value[1], value: [0, value[0]] } : { metric: {}, value: [0, value] })) } },
});
const EMPTY = vector();

function scripted(answers: Answer[]) {
  let clock = 0;
  const calls: Array<{ at: number; url: string; headers: Record<string, string> }> = [];
  const fetchImpl = (async (url: string, init?: RequestInit) => {
    calls.push({ at: clock, url, headers: (init?.headers ?? {}) as Record<string, string> });
    const answer = answers[Math.min(calls.length - 1, answers.length - 1)]!;
    if (answer instanceof Error) throw answer;
    return new Response(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body), { status: answer.status ?? 200 });
  }) as unknown as typeof fetch;
  const options = (overrides: Partial<VerifyReleaseOptions> = {}): VerifyReleaseOptions => ({
    prometheusUrl: 'http://prometheus.test:9090/',
    checks: [{ name: 'error-ratio', query: 'ratio{digest="$digest"}', max: 0.05 }],
    forSeconds: 10,
    intervalSeconds: 5,
    release: { frontend: D },
    environment: 'staging',
    fetch: fetchImpl,
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
    ...overrides,
  });
  return { calls, options };
}

describe('verifyRelease rules', () => {
  test('evaluates at the start, every interval, and once more when the window closes', async () => {
    const { calls, options } = scripted([vector('0.01')]);
    const result = await verifyRelease(options({ forSeconds: 12 }));
    expect(calls.map((call) => call.at)).toEqual([0, 5000, 10000, 12000]);
    expect(result).toMatchObject({ ok: true, stoppedEarly: false, rounds: 4, checks: [{ evaluations: 4, value: 0.01, ok: true }] });
    expect(calls[0]!.url).toBe(`http://prometheus.test:9090/api/v1/query?query=${encodeURIComponent(`ratio{digest="${D}"}`)}`);
  });

  test('for: 0s evaluates once', async () => {
    const { calls, options } = scripted([vector('0.01')]);
    expect((await verifyRelease(options({ forSeconds: 0 }))).ok).toBe(true);
    expect(calls).toHaveLength(1);
  });

  test('no data before the first data point is tolerated (new pods, rate() needs two scrapes)', async () => {
    const { options } = scripted([EMPTY, EMPTY, vector('0.02')]);
    const result = await verifyRelease(options({ forSeconds: 10 }));
    expect(result).toMatchObject({ ok: true, checks: [{ value: 0.02, evaluations: 3 }] });
  });

  test('…but data that disappears fails at once', async () => {
    const { calls, options } = scripted([vector('0.01'), EMPTY]);
    const result = await verifyRelease(options({ forSeconds: 60 }));
    expect(calls).toHaveLength(2);
    expect(result).toMatchObject({ ok: false, stoppedEarly: true, checks: [{ failure: 'no-data', value: 0.01, reason: 'no-data: empty result after 1 evaluation(s) with data' }] });
  });

  test('the first failing evaluation stops the window early; other checks keep their last value', async () => {
    const { calls, options } = scripted([vector('0.01'), vector('0.01'), vector('0.3'), vector('0.01')]);
    const result = await verifyRelease(
      options({
        forSeconds: 60,
        checks: [
          { name: 'error-ratio', query: 'ratio{digest="$digest"}', max: 0.05 },
          { name: 'latency', query: 'p99{digest="$digest"}', max: 1 },
        ],
      }),
    );
    expect(calls).toHaveLength(4);
    expect(result.ok).toBe(false);
    expect(result.stoppedEarly).toBe(true);
    expect(result.checks.map((check) => [check.name, check.ok, check.reason])).toEqual([
      ['error-ratio', false, 'above max 0.05: 0.3'],
      ['latency', true, undefined],
    ]);
    expect(describeVerification(result)).toBe('error-ratio (frontend): above max 0.05: 0.3');
  });

  test('with several series, the worst one decides and is named', async () => {
    const { options } = scripted([vector(['0.01', { pod: 'a' }], ['0.4', { pod: 'b' }], ['0.2', { pod: 'c' }])]);
    const result = await verifyRelease(options({ forSeconds: 0 }));
    expect(result.checks[0]).toMatchObject({ value: 0.4, reason: 'above max 0.05: 0.4 (pod="b")' });
  });

  test.each<[string, Answer, string]>([
    ['an HTML error page from a proxy', { status: 502, body: '<html><body>Bad Gateway</body></html>' }, 'prometheus-unreachable: HTTP 502, not a Prometheus API answer: <html><body>Bad Gateway</body></html>'],
    ['an auth error from Google', { status: 401, body: { error: { code: 401, message: 'Request had invalid authentication credentials.' } } }, 'prometheus-unreachable: HTTP 401, not a Prometheus API answer: {"error":{"code":401,"message":"Request had invalid authentication credentials."}}'],
    ['a network error', Object.assign(new TypeError('fetch failed'), { cause: new Error('getaddrinfo ENOTFOUND prometheus.test') }), 'prometheus-unreachable: getaddrinfo ENOTFOUND prometheus.test'],
    ['a timeout', Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }), 'prometheus-unreachable: no answer within 10000 ms'],
    ['an execution error', { status: 422, body: { status: 'error', errorType: 'execution', error: 'many-to-many matching not allowed' } }, 'query-error: execution: many-to-many matching not allowed'],
    ['a range vector result', { body: { status: 'success', data: { resultType: 'matrix', result: [] } } }, 'query-error: the query returns a matrix; a check needs one number per series'],
    ['an empty result to the end', EMPTY, 'no-data: empty result (1 evaluation(s))'],
  ])('fails closed on %s, saying which', async (_name, answer, reason) => {
    const { options } = scripted([answer]);
    const result = await verifyRelease(options({ forSeconds: 0 }));
    expect(result.ok).toBe(false);
    expect(result.checks[0]!.reason).toBe(reason);
  });

  test('a scalar result is a value', async () => {
    const { options } = scripted([{ body: { status: 'success', data: { resultType: 'scalar', result: [0, '0.5'] } } }]);
    const result = await verifyRelease(options({ forSeconds: 0, checks: [{ name: 'scalar', query: 'scalar(x)', min: 0.9 }] }));
    expect(result.checks[0]).toMatchObject({ value: 0.5, reason: 'below min 0.9: 0.5', failure: 'below-min' });
  });

  test('headers (a Managed Prometheus token) are sent and never reach a reason', async () => {
    const { calls, options } = scripted([{ status: 403, body: 'denied for Bearer ya29.secret-token-value' }]);
    const result = await verifyRelease(options({ forSeconds: 0, headers: async () => ({ authorization: 'Bearer ya29.secret-token-value' }) }));
    expect(calls[0]!.headers).toMatchObject({ authorization: 'Bearer ya29.secret-token-value' });
    expect(result.checks[0]!.reason).not.toContain('secret-token-value');
  });

  test('an abort during the wait supersedes the verification without blaming a check', async () => {
    const controller = new AbortController();
    const { options } = scripted([vector('0.01')]);
    const result = await verifyRelease(
      options({
        forSeconds: 60,
        signal: controller.signal,
        sleep: () => {
          controller.abort();
          return new Promise(() => undefined);
        },
      }),
    );
    expect(result).toMatchObject({ ok: false, superseded: true, checks: [{ ok: true, value: 0.01 }] });
    expect(describeVerification(result)).toBe('superseded by a newer release or a rollback before it finished');
  });

  test('a per-service check of a release without services cannot pass', async () => {
    const { options } = scripted([vector('0')]);
    const result = await verifyRelease(options({ release: {} }));
    expect(result).toMatchObject({ ok: false, checks: [{ failure: 'no-data', reason: 'no-data: the release has no services to evaluate this check for' }] });
  });
});
