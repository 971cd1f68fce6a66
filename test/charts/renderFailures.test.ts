// Every way the chart must refuse to render, asserted on the real helm's own errors: the
// values.schema.json check (which helm, and so Argo CD, applies before any template runs), the
// templates' own guards (reached with --skip-schema-validation, the defence in depth behind the
// schema), template and YAML errors, and missing files. One row per failure.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { chartDir, lint, render, renderRaw, type HelmResult } from './helmRender.js';

let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'baton-chart-fail-'));
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A scratch copy of the chart with one file changed. */
function chartWith(name: string, file: string, edit: (text: string) => string): string {
  const dir = path.join(tmp, name);
  cpSync(chartDir, dir, { recursive: true });
  const p = path.join(dir, file);
  const before = readFileSync(p, 'utf8');
  const after = edit(before);
  if (after === before) throw new Error(`chartWith(${name}): the edit of ${file} changed nothing`);
  writeFileSync(p, after);
  return dir;
}

function expectFailure(res: HelmResult, message: RegExp): void {
  expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 1, stderr: expect.stringMatching(message) });
  expect(res.stdout).toBe('');
}

const SCHEMA = "values don't meet the specifications of the schema\\(s\\) in the following chart\\(s\\):\\s+online-boutique:";
const schemaError = (at: string, what: string): RegExp => new RegExp(`${SCHEMA}[\\s\\S]*- at '${at.replace(/[/]/g, '\\/')}': ${what}`);

describe('helm template refuses', () => {
  test('the unmodified chart renders (control)', async () => {
    expect((await render()).length).toBeGreaterThan(0);
  });

  // [what, --set values, helm's error]
  const SCHEMA_ROWS: [string, string[], RegExp][] = [
    ['an unknown top-level key', ['unknownKey=1'], schemaError('', "additional properties 'unknownKey' not allowed")],
    ['a misspelt service key', ['services.frontend.replicaCount=3'], schemaError('/services/frontend', "additional properties 'replicaCount' not allowed")],
    ['an empty image tag without a digest', ['services.frontend.image.tag='], schemaError('/services/frontend/image/tag', 'minLength: got 0, want 1')],
    ['a missing image repository', ['services.adservice.image.repository=null'], schemaError('/services/adservice/image', "missing property 'repository'")],
    ['missing resources', ['services.emailservice.resources=null'], schemaError('/services/emailservice', "missing property 'resources'")],
    ['the latest tag', ['services.cartservice.image.tag=latest'], schemaError('/services/cartservice/image/tag', "'not' failed")],
    ['a malformed digest', ['services.frontend.image.digest=sha256:1234'], schemaError('/services/frontend/image/digest', "'sha256:1234' does not match pattern")],
    ['a port out of range', ['services.adservice.containerPort=70000'], schemaError('/services/adservice/containerPort', 'maximum: got 70,000, want 65,535')],
    ['an unknown gateway class', ['gateway.className=nginx'], schemaError('/gateway/className', 'value must be one of')],
    ['a host name that is not a DNS name', ['gateway.hostnames[0]=Shop_Example'], schemaError('/gateway/hostnames/0', "'Shop_Example' does not match pattern")],
  ];

  test.each(SCHEMA_ROWS)('%s (schema)', async (_what, set, message) => {
    expectFailure(await renderRaw({ set }), message);
  });

  // The templates' guards, behind the schema: reached only when it is skipped (or wrong).
  const TEMPLATE_ROWS: [string, string[], RegExp][] = [
    ['cartservice without redis and without redisAddr', ['redis.enabled=false'], /execution error at \(online-boutique\/templates\/deployments\.yaml:\d+:\d+\): services\.cartservice\.redisAddr is required when redis\.enabled is false/],
    ['minReplicas above maxReplicas', ['services.frontend.autoscaling.minReplicas=9', 'services.frontend.autoscaling.maxReplicas=3'], /execution error at \(online-boutique\/templates\/hpa\.yaml:\d+:\d+\): services\.frontend\.autoscaling: minReplicas \(9\) is greater than maxReplicas \(3\)/],
    ['the latest tag, without the schema', ['services.cartservice.image.tag=latest'], /cartservice: image\.tag "latest" is not allowed/],
    ['a malformed digest, without the schema', ['services.frontend.image.digest=sha256:1234'], /frontend: image\.digest "sha256:1234" is not sha256:<64 hex>/],
    ['a missing image tag, without the schema', ['services.frontend.image.tag='], /frontend: image\.tag is required when image\.digest is empty/],
    ['missing resources, without the schema', ['services.emailservice.resources=null'], /services\.emailservice\.resources is required/],
  ];

  test.each(TEMPLATE_ROWS)('%s (template guard)', async (what, set, message) => {
    const extra = what.includes('without the schema') ? ['--skip-schema-validation'] : [];
    expectFailure(await renderRaw({ set, extra }), message);
  });

  // Broken chart files.
  const CHART_ROWS: [string, string, (t: string) => string, RegExp][] = [
    ['a template with a syntax error', 'templates/services.yaml', (t) => t.replace('{{- if and $svc.enabled $svc.containerPort }}', '{{- if and $svc.enabled $svc.containerPort '), /parse error at \(online-boutique\/templates\/services\.yaml:\d+\)/],
    ['a function that does not exist', 'templates/hpa.yaml', (t) => t.replace('maxReplicas: {{ $hpa.maxReplicas }}', 'maxReplicas: {{ $hpa.maxReplicas | toInteger }}'), /function "toInteger" not defined/],
    ['a helper that is not defined', 'templates/pdb.yaml', (t) => t.replace('online-boutique.selectorLabels', 'online-boutique.selectorLabelz'), /no template "online-boutique\.selectorLabelz"/],
    ['a template that renders invalid YAML', 'templates/serviceaccounts.yaml', (t) => t.replace('automountServiceAccountToken: false', 'automountServiceAccountToken: false\n  : : bad'), /YAML parse error on online-boutique\/templates\/serviceaccounts\.yaml/],
    ['a values.schema.json that is not JSON', 'values.schema.json', (t) => t.replace('{', '{,'), /values\.schema\.json|invalid character/],
  ];

  test.each(CHART_ROWS)('%s', async (what, file, edit, message) => {
    const chart = chartWith(what.replace(/\W+/g, '-'), file, edit);
    expectFailure(await renderRaw({ chart }), message);
  });

  test('a values file that does not exist', async () => {
    expectFailure(await renderRaw({ valueFiles: [path.join(tmp, 'nope.yaml')] }), /open .*nope\.yaml: no such file or directory/);
  });

  test('a chart directory that does not exist', async () => {
    expectFailure(await renderRaw({ chart: path.join(tmp, 'no-such-chart') }), /path ".*no-such-chart" not found/);
  });
});

describe('helm lint --strict', () => {
  test('refuses values the schema refuses', async () => {
    const res = await lint({ set: ['unknownKey=1'] });
    expect(res.status).toBe(1);
    expect(res.stdout).toMatch(/\[ERROR\] values\.yaml: - at '': additional properties 'unknownKey' not allowed/);
    expect(res.stderr).toMatch(/1 chart\(s\) linted, 1 chart\(s\) failed/);
  });

  // helm lint renders in a lenient mode where `required` and `fail` only log; helm template (and
  // so Argo CD) refuses. That is why every guard above is asserted on helm template.
  test.each([
    ['required', ['redis.enabled=false'], /level=WARN msg="missing required values" message="services\.cartservice\.redisAddr is required/],
    ['fail', ['services.frontend.autoscaling.minReplicas=9', 'services.frontend.autoscaling.maxReplicas=3'], /level=INFO msg="funcMap fail" message="services\.frontend\.autoscaling: minReplicas \(9\)/],
  ] as const)('only logs a template guard (%s)', async (_fn, set, message) => {
    const res = await lint({ set: [...set] });
    expect(res.status).toBe(0);
    expect(res.stderr).toMatch(message);
  });

  test('refuses a numeric appVersion', async () => {
    const chart = chartWith('lint-appversion', 'Chart.yaml', (t) => t.replace('appVersion: "v0.10.3"', 'appVersion: 1234567'));
    const res = await lint({ chart });
    expect(res.status).toBe(1);
    expect(res.stdout).toMatch(/\[ERROR\] Chart\.yaml: appVersion should be of type string but it's of type float64/);
  });
});
