// A broken template, a missing required value or a refused value must make
// rendering fail (non-zero exit, a message that says what is wrong).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { buildRenderer, chartDir, renderRaw, render, type Renderer } from './helmRender.js';

let renderer: Renderer;
let tmp: string;

beforeAll(() => {
  renderer = buildRenderer();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'baton-chart-fail-'));
}, 180_000);

afterAll(() => {
  renderer?.cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A scratch copy of the chart with one file changed. */
function chartWith(name: string, file: string, edit: (text: string) => string): string {
  const dir = path.join(tmp, name);
  cpSync(chartDir, dir, { recursive: true });
  const p = path.join(dir, file);
  writeFileSync(p, edit(readFileSync(p, 'utf8')));
  return dir;
}

function expectFailure(res: { status: number | null; stderr: string; stdout: string }, message: RegExp): void {
  expect(res.status).not.toBe(0);
  expect(res.stderr).toMatch(message);
  expect(res.stdout).toBe('');
}

describe('helm-render fails loudly', () => {
  test('the unmodified chart renders (control)', () => {
    expect(render(renderer).length).toBeGreaterThan(0);
  });

  test('a template with a syntax error', () => {
    const chart = chartWith('syntax', 'templates/services.yaml', (t) => t.replace('{{- if and $svc.enabled $svc.containerPort }}', '{{- if and $svc.enabled $svc.containerPort '));
    expectFailure(renderRaw(renderer, { chart }), /parse error in online-boutique\/templates\/services\.yaml/);
  });

  test('a template calling a function that does not exist', () => {
    const chart = chartWith('nofunc', 'templates/hpa.yaml', (t) => t.replace('maxReplicas: {{ $hpa.maxReplicas }}', 'maxReplicas: {{ $hpa.maxReplicas | toInteger }}'));
    expectFailure(renderRaw(renderer, { chart }), /function "toInteger" not defined/);
  });

  test('a helper that is referenced but not defined', () => {
    const chart = chartWith('nohelper', 'templates/pdb.yaml', (t) => t.replace('online-boutique.selectorLabels', 'online-boutique.selectorLabelz'));
    expectFailure(renderRaw(renderer, { chart }), /no template "online-boutique\.selectorLabelz"/);
  });

  test('a template that renders invalid YAML is caught by the parser', () => {
    const chart = chartWith('badyaml', 'templates/serviceaccounts.yaml', (t) => t.replace('automountServiceAccountToken: false', 'automountServiceAccountToken: false\n  : : bad'));
    expect(() => render(renderer, { chart })).toThrow(/invalid YAML|not a mapping/);
  });

  test('a missing required value: cartservice without redis and without redisAddr', () => {
    expectFailure(renderRaw(renderer, { set: ['redis.enabled=false'] }), /services\.cartservice\.redisAddr is required when redis\.enabled is false/);
  });

  test('a missing image tag without a digest', () => {
    expectFailure(renderRaw(renderer, { set: ['services.frontend.image.tag='] }), /frontend: image\.tag is required when image\.digest is empty/);
  });

  test('a missing image repository', () => {
    expectFailure(renderRaw(renderer, { set: ['services.adservice.image.repository=null'] }), /adservice: image\.repository is required/);
  });

  test('missing resources', () => {
    expectFailure(renderRaw(renderer, { set: ['services.emailservice.resources=null'] }), /services\.emailservice\.resources is required/);
  });

  test('the latest tag is refused even without the schema', () => {
    expectFailure(renderRaw(renderer, { set: ['services.cartservice.image.tag=latest'] }), /cartservice: image\.tag "latest" is not allowed/);
  });

  test('a malformed digest is refused even without the schema', () => {
    expectFailure(renderRaw(renderer, { set: ['services.frontend.image.digest=sha256:1234'] }), /frontend: image\.digest "sha256:1234" is not sha256:<64 hex>/);
  });

  test('minReplicas above maxReplicas', () => {
    expectFailure(renderRaw(renderer, { set: ['services.frontend.autoscaling.minReplicas=9', 'services.frontend.autoscaling.maxReplicas=3'] }), /minReplicas \(9\) is greater than maxReplicas \(3\)/);
  });

  test('a values file that does not exist', () => {
    expectFailure(renderRaw(renderer, { valueFiles: [path.join(tmp, 'nope.yaml')] }), /nope\.yaml/);
  });

  test('a chart without Chart.yaml', () => {
    expectFailure(renderRaw(renderer, { chart: path.join(tmp, 'empty-dir-that-does-not-exist') }), /Chart\.yaml/);
  });
});
