// helm lint --strict and helm template, with the real helm, for every chart that reaches a
// cluster and every values file it is installed with: charts/online-boutique (values.yaml alone,
// and with each values-<env>.yaml) and terraform/modules/ingress/chart (its defaults, and with
// values the schema must refuse).
import { readdirSync } from 'node:fs';
import path from 'node:path';

import { chartDir, ingressChartDir, lint, render, renderRaw, validateManifest } from './helmRender.js';

const envFiles = readdirSync(chartDir).filter((f) => /^values-[a-z]+\.yaml$/.test(f)).sort();

const CASES: [string, string, string[]][] = [
  ['online-boutique', chartDir, []],
  ...envFiles.map((f): [string, string, string[]] => [`online-boutique + ${f}`, chartDir, [path.join(chartDir, f)]]),
  ['ingress chart (modules/ingress)', ingressChartDir, []],
];

describe('every chart and values file', () => {
  test('there are environment values files to check', () => {
    expect(envFiles).toEqual(['values-dev.yaml', 'values-prod.yaml']);
  });

  test.each(CASES)('%s: helm lint --strict passes with nothing but the icon note', async (_name, chart, valueFiles) => {
    const res = await lint({ chart, valueFiles });
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: '' });
    expect(res.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(res.stdout.split('\n').filter((l) => /^\[(WARNING|ERROR)\]/.test(l))).toEqual([]);
  });

  test.each(CASES)('%s: helm template renders valid manifests', async (_name, chart, valueFiles) => {
    const docs = await render({ chart, valueFiles, namespace: 'lint-check' });
    expect(docs.length).toBeGreaterThan(0);
    for (const d of docs) expect(() => validateManifest(d)).not.toThrow();
  });

  test('the ingress chart refuses values Terraform must never send', async () => {
    const res = await renderRaw({ chart: ingressChartDir, set: ['hostnames[0]=Not A Host', 'route.port=0'] });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/at '\/hostnames\/0': 'Not A Host' does not match pattern/);
    expect(res.stderr).toMatch(/at '\/route\/port': minimum: got 0, want 1/);
  });
});
