import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { EnvironmentsConfig, IMPLICIT_ENVIRONMENT, environmentsOf, parseDuration, validateEnvironments } from '../../domain/environments/config.js';
import type { EnvironmentsConfig as EnvironmentsConfigType } from '../../domain/environments/config.js';
import { isPerService, queryProblem, queryVariables, renderQuery } from '../../domain/verify/promql.js';
import { probesFor } from '../../domain/verify/verify.js';

/**
 * `pipelines[].environments`: every key validated, errors naming the field; queries parsed
 * with lezer-promql at load; the implicit environment of a pipeline without the key.
 */
const ERROR_RATIO = 'sum(rate(http_requests_total{code=~"5..",digest="$digest"}[1m])) / sum(rate(http_requests_total{digest="$digest"}[1m]))';

const VALID = `
pipelines:
  - name: shop
    approval: { approvers: [U1, U2], channel: C-SHOP, ttlSeconds: 86400 }
    environments:
      - name: staging
        promotion: auto
        argocd: { application: shop-staging }
        values: values-staging.yaml
        verify:
          prometheus: { url: "http://prometheus.monitoring:9090" }
          for: 90s
          checks:
            - name: error-ratio
              query: '${ERROR_RATIO}'
              max: 0.05
      - name: production
        promotion: approval
        approval: { approvers: [U9], ttlSeconds: 3600 }
        argocd: { application: shop-prod }
        values: values-production.yaml
        verify:
          for: 1h30m
          checks:
            - { name: availability, query: 'avg(up{environment="$environment"})', min: 1 }
`;

/**
 * What the pipeline schema does with the key (`environments: EnvironmentsConfig.optional()`,
 * first issue reported as `<field>: <problem>`), kept local so this test does not depend on the
 * rest of the pipeline schema.
 */
const Wrapper = z.object({ pipelines: z.array(z.looseObject({ name: z.string(), environments: EnvironmentsConfig.optional() })) });

function load(text: string): Array<{ environments?: EnvironmentsConfigType; approval?: { approvers?: string[]; channel?: string; ttlSeconds?: number } }> {
  const result = Wrapper.safeParse(parseYaml(text));
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
    throw new Error(`baton.yaml: ${field}: ${issue.message}`);
  }
  return result.data.pipelines as never;
}

function environmentsYaml(raw: unknown): string {
  return JSON.stringify({ pipelines: [{ name: 'shop', environments: raw }] });
}

const base = () => parseYaml(VALID).pipelines[0].environments as Array<Record<string, any>>;

function mutate(change: (environments: any[]) => void): unknown {
  const environments = base();
  change(environments);
  return environments;
}

describe('environments config', () => {
  test('a valid list loads, in order, with defaults resolved', () => {
    const [pipeline] = load(VALID);
    const environments = environmentsOf(pipeline!, { PROMETHEUS_URL: 'http://gmp-frontend:9090' });
    expect(environments.map((environment) => environment.name)).toEqual(['staging', 'production']);
    expect(environments[0]).toEqual({
      name: 'staging',
      promotion: 'auto',
      approval: { approvers: ['U1', 'U2'], channel: 'C-SHOP', ttlSeconds: 86400 },
      argocd: { application: 'shop-staging' },
      values: 'values-staging.yaml',
      verify: { prometheusUrl: 'http://prometheus.monitoring:9090', forSeconds: 90, checks: [{ name: 'error-ratio', query: ERROR_RATIO, max: 0.05 }] },
      implicit: false,
    });
    // Approval keys fall back one by one to the pipeline's; the URL to PROMETHEUS_URL.
    expect(environments[1]!.approval).toEqual({ approvers: ['U9'], channel: 'C-SHOP', ttlSeconds: 3600 });
    expect(environments[1]!.verify).toMatchObject({ prometheusUrl: 'http://gmp-frontend:9090', forSeconds: 5400, checks: [{ name: 'availability', min: 1 }] });
    expect(environmentsOf(pipeline!, {})[1]!.verify!.prometheusUrl).toBeUndefined();
  });

  test('a pipeline without environments has the one implicit environment "default", as today', () => {
    expect(environmentsOf({ deploy: { argocd: { application: 'shop-prod' } }, chart: { valuesFile: 'values-prod.yaml' }, approval: { approvers: ['U1'] } })).toEqual([
      { name: IMPLICIT_ENVIRONMENT, promotion: 'approval', approval: { approvers: ['U1'] }, argocd: { application: 'shop-prod' }, values: 'values-prod.yaml', implicit: true },
    ]);
    expect(environmentsOf({})).toEqual([{ name: 'default', promotion: 'approval', approval: {}, values: 'values.yaml', implicit: true }]);
    expect(validateEnvironments(undefined, 'pipelines[0]')).toEqual([]);
  });

  test.each([
    ['an unknown key (a typo)', (e: any[]) => (e[0].promtion = 'auto'), 'pipelines[0].environments[0]', /promtion/],
    ['promotion not auto|approval', (e: any[]) => (e[0].promotion = 'manual'), 'pipelines[0].environments[0].promotion', /auto|approval/],
    ['an upper-case name', (e: any[]) => (e[0].name = 'Staging'), 'pipelines[0].environments[0].name', /lower-case/],
    ['no argocd.application', (e: any[]) => (e[0].argocd = {}), 'pipelines[0].environments[0].argocd.application', /./],
    ['a values file outside the chart', (e: any[]) => (e[0].values = '../other/values.yaml'), 'pipelines[0].environments[0].values', /inside the chart/],
    ['a values file that is not YAML', (e: any[]) => (e[0].values = 'values-staging.json'), 'pipelines[0].environments[0].values', /\.yaml/],
    ['a bad duration', (e: any[]) => (e[0].verify.for = '90 seconds'), 'pipelines[0].environments[0].verify.for', /duration/],
    ['a duration too long', (e: any[]) => (e[0].verify.for = '7h'), 'pipelines[0].environments[0].verify.for', /at most 6h/],
    ['a Prometheus URL that is not http(s)', (e: any[]) => (e[0].verify.prometheus.url = 'prometheus:9090'), 'pipelines[0].environments[0].verify.prometheus.url', /http/],
    ['no checks', (e: any[]) => (e[0].verify.checks = []), 'pipelines[0].environments[0].verify.checks', /at least one/],
    ['a check with both max and min', (e: any[]) => (e[0].verify.checks[0].min = 0), 'pipelines[0].environments[0].verify.checks[0]', /exactly one of max or min/],
    ['a check with neither max nor min', (e: any[]) => delete e[0].verify.checks[0].max, 'pipelines[0].environments[0].verify.checks[0]', /exactly one of max or min/],
    ['a max that is not a number', (e: any[]) => (e[0].verify.checks[0].max = '5%'), 'pipelines[0].environments[0].verify.checks[0].max', /number/],
    ['a query that does not parse', (e: any[]) => (e[0].verify.checks[0].query = 'sum(rate(http_requests_total[1m])'), 'pipelines[0].environments[0].verify.checks[0].query', /not valid PromQL: syntax error at 1:34 \(unexpected end\)/],
    ['two queries glued together', (e: any[]) => (e[1].verify.checks[0].query = 'up up'), 'pipelines[0].environments[1].verify.checks[0].query', /not valid PromQL: syntax error at 1:4 near "up"/],
    ["Grafana's $__rate_interval", (e: any[]) => (e[0].verify.checks[0].query = 'sum(rate(x[$__rate_interval]))'), 'pipelines[0].environments[0].verify.checks[0].query', /Grafana's \$__rate_interval/],
    ['an unknown variable', (e: any[]) => (e[0].verify.checks[0].query = 'up{version="$version"}'), 'pipelines[0].environments[0].verify.checks[0].query', /unknown variable \$version; a query may use \$service, \$digest/],
    ['a range-vector query', (e: any[]) => (e[0].verify.checks[0].query = 'http_requests_total[5m]'), 'pipelines[0].environments[0].verify.checks[0].query', /range vector/],
    ['a duplicate environment name', (e: any[]) => (e[1].name = 'staging'), 'pipelines[0].environments[1].name', /duplicate environment name "staging"/],
    ['two environments on one values file', (e: any[]) => (e[1].values = 'values-staging.yaml'), 'pipelines[0].environments[1].values', /already environments\[0\]'s values file/],
    ['two environments on one Application', (e: any[]) => (e[1].argocd.application = 'shop-staging'), 'pipelines[0].environments[1].argocd.application', /already deploys environments\[0\]/],
    ['approval on an auto environment', (e: any[]) => (e[0].approval = { approvers: ['U1'] }), 'pipelines[0].environments[0].approval', /promotion is auto/],
    ['an unknown approval key', (e: any[]) => (e[1].approval.approver = ['U1']), 'pipelines[0].environments[1].approval', /approver/],
    ['a duplicate check name', (e: any[]) => e[0].verify.checks.push({ ...e[0].verify.checks[0] }), 'pipelines[0].environments[0].verify.checks[1].name', /duplicate check name/],
  ])('refused at load, naming the field: %s', (_name, change, field, message) => {
    const text = environmentsYaml(mutate(change));
    expect(() => load(text)).toThrow(`baton.yaml: ${field}:`);
    expect(() => load(text)).toThrow(message);
    // validateEnvironments lists the same problem with the full path.
    const problems = validateEnvironments(mutate(change), 'pipelines[0]');
    expect(problems.map((problem) => problem.field)).toContain(field);
  });

  test('validateEnvironments lists every problem, not just the first', () => {
    const problems = validateEnvironments(
      mutate((e: any[]) => {
        e[0].verify.checks[0].query = 'sum(';
        e[1].verify.checks[0].query = 'rate(x[$__interval])';
      }),
      'pipelines[2]',
    );
    expect(problems.map((problem) => problem.field)).toEqual(['pipelines[2].environments[0].verify.checks[0].query', 'pipelines[2].environments[1].verify.checks[0].query']);
  });

  test('an empty list is refused (leave the key out instead)', () => {
    expect(() => load(environmentsYaml([]))).toThrow('pipelines[0].environments: at least one environment');
  });

  test.each([
    ['30s', 30],
    ['2m', 120],
    ['1h30m', 5400],
    ['0s', 0],
    ['1m5s', 65],
    ['', undefined],
    ['5', undefined],
    ['1d', undefined],
    ['1.5m', undefined],
  ])('duration %p is %p seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });
});

describe('query templating', () => {
  test('variables are found in both $name and ${name} forms; a regex end anchor is not a variable', () => {
    expect(queryVariables('x{digest="${digest}",env="$environment",path=~"/api$"}')).toEqual(['digest', 'environment']);
    expect(queryProblem('x{path=~"/api$"}')).toBeUndefined();
    expect(renderQuery('x{d="${digest}",s="$service"}', { digest: 'sha256:1', service: 'frontend' })).toBe('x{d="sha256:1",s="frontend"}');
  });

  test('a query with $service or $digest is evaluated per service; others once for the release', () => {
    const release = { frontend: 'sha256:f', cartservice: 'sha256:c' };
    expect(isPerService(ERROR_RATIO)).toBe(true);
    const probes = probesFor(
      [
        { name: 'error-ratio', query: 'x{digest="$digest",service="$service"}', max: 1 },
        { name: 'release', query: 'x{digest=~"$digests",service=~"$services",env="$environment"}', max: 1 },
      ],
      release,
      'staging',
    );
    expect(probes.map((probe) => [probe.check.name, probe.service, probe.query])).toEqual([
      ['error-ratio', 'cartservice', 'x{digest="sha256:c",service="cartservice"}'],
      ['error-ratio', 'frontend', 'x{digest="sha256:f",service="frontend"}'],
      ['release', undefined, 'x{digest=~"sha256:c|sha256:f",service=~"cartservice|frontend",env="staging"}'],
    ]);
    // Restricted to the services a run built.
    expect(probesFor([{ name: 'e', query: 'x{digest="$digest"}', max: 1 }], release, 'staging', ['frontend']).map((probe) => probe.service)).toEqual(['frontend']);
    expect(() => probesFor([], release, 'staging', ['adservice'])).toThrow('adservice is not in the release');
  });

  test('a syntax error after a variable points into the query as written', () => {
    expect(queryProblem('x{digest="$digest"} +')).toMatch(/syntax error at 1:22 \(unexpected end\)/);
    expect(queryProblem('x{digest="$digest"}) ')).toMatch(/syntax error at 1:20 near "\)"/);
  });

  test('a parenthesised range vector is still a range vector; an instant expression over it is fine', () => {
    expect(queryProblem('(x[5m])')).toMatch(/range vector/);
    expect(queryProblem('rate(x[5m])')).toBeUndefined();
    expect(queryProblem('1 - (sum(rate(x[5m])))')).toBeUndefined();
    expect(queryProblem('"text"')).toMatch(/a string/);
    expect(queryProblem('  ')).toBe('is empty');
  });
});
