import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { tempDir } from '../support/runtimes.js';
import { digestOf, lineDiff, readText, writeFixtureChart } from './fixtures.js';

/** `baton bump-chart`, run as the built CLI the way an operator or Jenkins runs it. */
const CLI = resolve('dist/cli/baton.js');

function baton(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function snapshot(dir: string) {
  return { chart: readText(join(dir, 'Chart.yaml')), values: readText(join(dir, 'values.yaml')) };
}

describe('baton bump-chart', () => {
  test('edits values and Chart.yaml in place, touching only the intended lines', () => {
    const dir = writeFixtureChart(join(tempDir('baton-cli-'), 'shop'));
    const before = snapshot(dir);
    const d1 = digestOf('cli-1');
    const result = baton('bump-chart', dir, '--image', `svc-1=abc1234@${d1}`, '--image', `svc-2=registry.test/moved/svc-2:abc1234@${digestOf('cli-2')}`);
    expect(result).toMatchObject({ code: 0, stdout: 'shop 1.4.2 -> 1.4.3: svc-1, svc-2\n' });
    const after = snapshot(dir);
    const values = lineDiff(before.values, after.values);
    expect(values.added.map((entry) => entry.text)).toEqual([
      '      tag: "abc1234"',
      `      digest: "${d1}"`,
      '      repository: registry.test/moved/svc-2',
      '      tag: "abc1234"',
      `      digest: "${digestOf('cli-2')}"`,
    ]);
    expect(values.removed).toHaveLength(5);
    expect(lineDiff(before.chart, after.chart).added.map((entry) => entry.text)).toEqual(['version: 1.4.3', 'appVersion: "abc1234"']);

    const again = baton('bump-chart', dir, '--image', `svc-1=abc1234@${d1}`, '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ chart: 'shop', changed: false, version: '1.4.3', previousVersion: '1.4.3', services: ['svc-1'] });
    expect(snapshot(dir)).toEqual(after);
  });

  test.each([
    ['an unknown service', ['--image', `svc-1=abc1234@${digestOf('x')}`, '--image', `nope=abc1234@${digestOf('y')}`], /baton: unknown service "nope": services\.nope\.image not found in values\.yaml/],
    ['a malformed digest', ['--image', 'svc-1=abc1234@sha256:1234'], /baton: malformed digest "sha256:1234" for service svc-1: expected sha256:<64 lower-case hex>/],
    ['a digest that is not sha256', ['--image', `svc-1=abc1234@md5:${'a'.repeat(32)}`], /malformed digest "md5:a{32}"/],
    ['a flag without a digest', ['--image', 'svc-1=abc1234'], /invalid --image "svc-1=abc1234": expected <service>=<tag>@sha256:<digest>/],
    ['the same service twice', ['--image', `svc-1=a@${digestOf('1')}`, '--image', `svc-1=b@${digestOf('2')}`], /service svc-1 is given twice/],
    ['a missing values file', ['--image', `svc-1=a@${digestOf('1')}`, '--values-file', 'values-prod.yaml'], /failed to read .*values-prod\.yaml/],
  ])('%s is a clear error and the chart stays unchanged', (_name, args, error) => {
    const dir = writeFixtureChart(join(tempDir('baton-cli-'), 'shop'));
    const before = snapshot(dir);
    const result = baton('bump-chart', dir, ...args);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(error);
    expect(snapshot(dir)).toEqual(before);
  });

  test('--image is required', () => {
    const result = baton('bump-chart', tempDir('baton-cli-'));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/required option '--image/);
  });

  test('--image-path and --app-version reach the edit', () => {
    const dir = tempDir('baton-cli-');
    writeFixtureChart(dir);
    const values = 'apps:\n  - name: first\n  - svc-9: {image: {repository: r, tag: old, digest: ""}}\n';
    writeFileSync(join(dir, 'values.yaml'), values);
    const result = baton('bump-chart', dir, '--image', `svc-9=v9@${digestOf('9')}`, '--image-path', 'apps[1].{service}.image', '--app-version', '2.0.0');
    expect(result.code).toBe(0);
    expect((parse(readText(join(dir, 'Chart.yaml'))) as { appVersion: string }).appVersion).toBe('2.0.0');
    expect(readText(join(dir, 'values.yaml'))).toBe(`apps:\n  - name: first\n  - svc-9: {image: {repository: r, tag: v9, digest: "${digestOf('9')}"}}\n`);
  });
});
