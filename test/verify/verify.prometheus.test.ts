import { createServer } from 'node:net';
import { findPrometheusBinary, startPrometheus } from '../../local/prometheus/prometheus.js';
import type { LocalPrometheus } from '../../local/prometheus/prometheus.js';
import { startWorkloadMetrics } from '../../standins/workloadMetrics.js';
import type { WorkloadMetrics } from '../../standins/workloadMetrics.js';
import { EnvironmentsConfig, validateEnvironments } from '../../domain/environments/config.js';
import { verifyRelease } from '../../domain/verify/verify.js';
import type { VerifyCheckInput, VerifyReleaseOptions } from '../../domain/verify/verify.js';
import { tempDir } from '../support/runtimes.js';

/**
 * Verification against a real Prometheus (Debian's 2.42, started here on loopback with a 1 s
 * scrape interval) scraping the workload-metrics stand-in, whose per-digest traffic each test
 * sets: pass, fail on the error ratio, no data, Prometheus down, and a query syntax error as
 * the server reports it (`bad_data`), which the config also refuses at load.
 */
const digest = (char: string) => `sha256:${char.repeat(64)}`;
const HEALTHY = digest('a');
const BROKEN = digest('b');
const CART = digest('c');
const SILENT = digest('d');
const NEVER_SEEN = digest('e');

const ERROR_RATIO: VerifyCheckInput = {
  name: 'error-ratio',
  query: 'sum(rate(http_requests_total{code=~"5..",digest="$digest"}[10s])) / sum(rate(http_requests_total{digest="$digest"}[10s]))',
  max: 0.05,
};

let metrics: WorkloadMetrics;
let prometheus: LocalPrometheus;
let readyMs = 0;

beforeAll(async () => {
  metrics = await startWorkloadMetrics();
  // Traffic starts before Prometheus so every series has history by the time a test queries it.
  metrics.setTraffic({ service: 'frontend', digest: HEALTHY, rps: 200, errorRatio: 0.01 });
  metrics.setTraffic({ service: 'frontend', digest: BROKEN, rps: 200, errorRatio: 0.25 });
  metrics.setTraffic({ service: 'cartservice', digest: CART, rps: 50, errorRatio: 0 });
  metrics.setTraffic({ service: 'adservice', digest: SILENT, rps: 0, errorRatio: 0 });
  const started = Date.now();
  prometheus = await startPrometheus({ dataDir: tempDir('baton-prometheus-'), scrapeTargets: [metrics.target], scrapeIntervalSeconds: 1 });
  await prometheus.ready();
  readyMs = Date.now() - started;
}, 45_000);

afterAll(async () => {
  await prometheus?.stop();
  await metrics?.close();
});

function verify(overrides: Partial<VerifyReleaseOptions>): ReturnType<typeof verifyRelease> {
  return verifyRelease({
    prometheusUrl: prometheus.url,
    checks: [ERROR_RATIO],
    forSeconds: 3,
    intervalSeconds: 1,
    release: { frontend: HEALTHY },
    environment: 'staging',
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    ...overrides,
  });
}

async function unusedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('verification against a real Prometheus', () => {
  test('Prometheus is up and has scraped the workload', async () => {
    expect(readyMs).toBeLessThan(30_000);
    process.stderr.write(`Prometheus ready (first scrape in) after ${readyMs} ms\n`);
    const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent('sum(http_requests_total)')}`);
    const body = (await response.json()) as { data: { result: Array<{ value: [number, string] }> } };
    expect(Number(body.data.result[0]!.value[1])).toBeGreaterThan(0);
  });

  test('pass: the release error ratio stays under max for the whole window', async () => {
    const result = await verify({ forSeconds: 3 });
    expect(result).toMatchObject({ ok: true, stoppedEarly: false });
    const [check] = result.checks;
    expect(check).toMatchObject({ name: 'error-ratio', service: 'frontend', ok: true });
    expect(check!.value).toBeCloseTo(0.01, 2);
    expect(check!.query).toContain(`digest="${HEALTHY}"`);
    expect(check!.evaluations).toBeGreaterThanOrEqual(3);
  });

  test('fail: an error ratio above max fails at once, with the failing value in the reason', async () => {
    const started = Date.now();
    const result = await verify({ release: { frontend: BROKEN }, forSeconds: 60 });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result).toMatchObject({ ok: false, stoppedEarly: true });
    const [check] = result.checks;
    expect(check).toMatchObject({ ok: false, failure: 'above-max', service: 'frontend' });
    expect(check!.value).toBeCloseTo(0.25, 2);
    expect(check!.reason).toMatch(/^above max 0\.05: 0\.2[45]\d*/);
  });

  test('per-service checks: one service failing fails the release and names the service', async () => {
    const result = await verify({ release: { cartservice: CART, frontend: BROKEN }, forSeconds: 30 });
    expect(result.ok).toBe(false);
    const byService = Object.fromEntries(result.checks.map((check) => [check.service, check]));
    expect(byService.frontend).toMatchObject({ ok: false, failure: 'above-max' });
    expect(byService.cartservice).toMatchObject({ ok: true, value: 0 });
  });

  test('a whole-release query over $digests is evaluated once', async () => {
    const result = await verify({
      release: { cartservice: CART, frontend: HEALTHY },
      checks: [{ name: 'release-traffic', query: 'sum by (service) (rate(http_requests_total{digest=~"$digests"}[10s]))', min: 1 }],
      forSeconds: 1,
    });
    expect(result.checks[0]!.reason).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.checks).toHaveLength(1);
    expect(result.checks[0]!.service).toBeUndefined();
    expect(result.checks[0]!.query).toContain(`digest=~"${CART}|${HEALTHY}"`);
    // Two series (one per service); a min check reports the lowest: cartservice's 50 rps (rate()
    // under-counts while the 10 s window is still filling, so only the order of magnitude).
    expect(result.checks[0]!.value).toBeGreaterThan(10);
    expect(result.checks[0]!.value).toBeLessThan(100);
  });

  test('a min check fails below its bound', async () => {
    const result = await verify({
      release: { frontend: BROKEN },
      checks: [{ name: 'success-ratio', query: 'sum(rate(http_requests_total{code="200",digest="$digest"}[10s])) / sum(rate(http_requests_total{digest="$digest"}[10s]))', min: 0.99 }],
      forSeconds: 10,
    });
    expect(result.checks[0]).toMatchObject({ ok: false, failure: 'below-min' });
    expect(result.checks[0]!.reason).toMatch(/^below min 0\.99: 0\.7[45]/);
  });

  test('no data: a digest without series fails closed when the window closes', async () => {
    const result = await verify({ release: { frontend: NEVER_SEEN }, forSeconds: 2 });
    expect(result).toMatchObject({ ok: false, stoppedEarly: false });
    expect(result.checks[0]).toMatchObject({ ok: false, failure: 'no-data', value: null });
    expect(result.checks[0]!.reason).toMatch(/^no-data: empty result/);
  });

  test('no data: NaN (no requests at all: 0/0) counts as no data', async () => {
    const result = await verify({ release: { adservice: SILENT }, forSeconds: 1 });
    expect(result.checks[0]).toMatchObject({ ok: false, failure: 'no-data' });
    expect(result.checks[0]!.reason).toMatch(/^no-data: NaN for every series/);
  });

  test('Prometheus down: an unreachable port fails closed at once', async () => {
    const port = await unusedPort();
    const started = Date.now();
    const result = await verify({ prometheusUrl: `http://127.0.0.1:${port}`, forSeconds: 60 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result).toMatchObject({ ok: false, stoppedEarly: true });
    expect(result.checks[0]).toMatchObject({ ok: false, failure: 'prometheus-unreachable', value: null });
    expect(result.checks[0]!.reason).toMatch(/^prometheus-unreachable: .*ECONNREFUSED/);
  });

  test('no Prometheus URL at all fails closed and says which setting is missing', async () => {
    const result = await verify({ prometheusUrl: undefined });
    expect(result.checks[0]!.reason).toBe('prometheus-unreachable: no Prometheus URL: set verify.prometheus.url or PROMETHEUS_URL');
  });

  const BAD_QUERY = 'sum(rate(http_requests_total{digest="$digest"}[10s])';

  test("query syntax error: the server's bad_data fails closed as a query error", async () => {
    const result = await verify({ checks: [{ name: 'typo', query: BAD_QUERY, max: 0.05 }], forSeconds: 30 });
    expect(result).toMatchObject({ ok: false, stoppedEarly: true });
    expect(result.checks[0]).toMatchObject({ ok: false, failure: 'query-error' });
    expect(result.checks[0]!.reason).toMatch(/^query-error: bad_data: .*parse error/);
  });

  test('…and the same query is refused when the config loads (lezer-promql)', () => {
    const environments = [{ name: 'staging', promotion: 'auto', argocd: { application: 'shop-staging' }, values: 'values-staging.yaml', verify: { for: '30s', checks: [{ name: 'typo', query: BAD_QUERY, max: 0.05 }] } }];
    expect(EnvironmentsConfig.safeParse(environments).success).toBe(false);
    expect(validateEnvironments(environments, 'pipelines[0]')).toEqual([
      { field: 'pipelines[0].environments[0].verify.checks[0].query', problem: expect.stringMatching(/^query is not valid PromQL: syntax error at 1:\d+/) },
    ]);
  });

  test('a newer release supersedes a verification in flight', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 1500);
    const started = Date.now();
    const result = await verify({ forSeconds: 60, signal: controller.signal });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result).toMatchObject({ ok: false, superseded: true });
    expect(result.checks.every((check) => check.failure === undefined)).toBe(true);
  });

  test('traffic changes show up in the next evaluations (the counters follow setTraffic)', async () => {
    const flaky = digest('f');
    metrics.setTraffic({ service: 'frontend', digest: flaky, rps: 200, errorRatio: 0 });
    const before = await verify({ release: { frontend: flaky }, forSeconds: 4 });
    expect(before.ok).toBe(true);
    metrics.setTraffic({ service: 'frontend', digest: flaky, rps: 200, errorRatio: 0.5 });
    const after = await verify({ release: { frontend: flaky }, forSeconds: 15 });
    expect(after.checks[0]).toMatchObject({ ok: false, failure: 'above-max' });
  });
});

describe('the local Prometheus launcher', () => {
  test('a missing binary says how to install it', () => {
    expect(() => findPrometheusBinary('/nonexistent/prometheus')).toThrow('apt-get install -y prometheus');
  });

  test('it refuses to start without targets', async () => {
    await expect(startPrometheus({ dataDir: tempDir(), scrapeTargets: [] })).rejects.toThrow('no scrape targets');
  });
});
