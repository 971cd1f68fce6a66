import { chmodSync, cpSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Parser, x as extract } from 'tar';
import type { ReadEntry } from 'tar';
import { runHelm } from '../../local/helm/helm.js';
import { HelmIgnore } from '../../domain/chart/helmignore.js';
import { packageChart } from '../../domain/chart/package.js';
import { tempDir } from '../support/runtimes.js';
import { writeFixtureChart } from './fixtures.js';

/** Packaging: Helm's layout, `.helmignore` honoured, and the same chart always gives the same bytes. */
function chartWithExtras(): string {
  const dir = writeFixtureChart(join(tempDir('baton-pkg-'), 'chart-dir'));
  writeFileSync(join(dir, 'values.yaml.bak'), 'ignored\n');
  mkdirSync(join(dir, 'notes'));
  writeFileSync(join(dir, 'notes', 'todo.md'), 'ignored\n');
  writeFileSync(join(dir, 'templates', '.hidden.yaml'), 'ignored by helm default\n');
  writeFileSync(join(dir, 'templates', 'NOTES.txt'), 'thanks\n');
  const deep = join(dir, 'files', 'a-rather-long-directory-name-to-push-past-the-ustar-limit', 'and-another-long-directory-name-too');
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, 'with-a-long-file-name-that-needs-a-pax-header.txt'), 'long path\n');
  return dir;
}

/** One ConfigMap per service: objects helm lint --strict accepts. */
const LINTABLE_TEMPLATE = '{{- range $name, $svc := .Values.services }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ $name }}\ndata:\n  tag: {{ $svc.image.tag | quote }}\n{{- end }}\n';

type Entry = { path: string; mode?: number; uid?: number; gid?: number; mtime?: Date; type: string; uname?: string; body: string };

async function readTar(bytes: Buffer): Promise<Entry[]> {
  const entries: Entry[] = [];
  const parser = new Parser({
    onReadEntry: (entry: ReadEntry) => {
      const chunks: Buffer[] = [];
      entry.on('data', (chunk: Buffer) => chunks.push(chunk));
      entry.on('end', () =>
        entries.push({ path: entry.path, mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: entry.mtime, type: entry.type, uname: entry.uname, body: Buffer.concat(chunks).toString('utf8') }),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    parser.on('end', resolve);
    parser.on('error', reject);
    parser.end(bytes);
  });
  return entries;
}

describe('packageChart', () => {
  test("entries sit under the chart's name, Chart.yaml first, sorted, with .helmignore honoured", async () => {
    const pkg = await packageChart(chartWithExtras());
    expect(pkg).toMatchObject({ name: 'shop', version: '1.4.2' });
    expect(pkg.entries).toEqual([
      'shop/Chart.yaml',
      'shop/.helmignore',
      'shop/files/a-rather-long-directory-name-to-push-past-the-ustar-limit/and-another-long-directory-name-too/with-a-long-file-name-that-needs-a-pax-header.txt',
      'shop/templates/NOTES.txt',
      'shop/templates/deployment.yaml',
      'shop/values.yaml',
    ]);
    const entries = await readTar(pkg.bytes);
    expect(entries.map((entry) => entry.path)).toEqual(pkg.entries);
    for (const entry of entries) {
      expect(entry).toMatchObject({ type: 'File', mode: 0o644, uid: 0, gid: 0 });
      expect(entry.mtime?.getTime()).toBe(0);
      expect(entry.uname ?? '').toBe('');
    }
  });

  test('the same chart gives the same bytes, whatever the file times and modes', async () => {
    const dir = chartWithExtras();
    const first = await packageChart(dir);
    const copy = join(tempDir('baton-pkg-copy-'), 'elsewhere');
    cpSync(dir, copy, { recursive: true });
    utimesSync(join(copy, 'values.yaml'), new Date('2030-01-01'), new Date('2030-01-01'));
    chmodSync(join(copy, 'templates', 'deployment.yaml'), 0o600);
    const second = await packageChart(copy);
    expect(second.bytes.equals(first.bytes)).toBe(true);
    // gzip header: no timestamp (bytes 4–7) and OS "unknown" (byte 9).
    expect([...first.bytes.subarray(4, 8)]).toEqual([0, 0, 0, 0]);
    expect(first.bytes[9]).toBe(255);
    // A content change changes the bytes.
    writeFileSync(join(copy, 'values.yaml'), `${readFileSync(join(copy, 'values.yaml'), 'utf8')}# more\n`);
    expect((await packageChart(copy)).bytes.equals(first.bytes)).toBe(false);
  });

  test('the tarball round-trips: extracted files equal the chart files', async () => {
    const dir = chartWithExtras();
    const pkg = await packageChart(dir);
    const out = tempDir('baton-pkg-out-');
    const tgz = join(out, 'shop-1.4.2.tgz');
    writeFileSync(tgz, pkg.bytes);
    await extract({ file: tgz, cwd: out });
    for (const entry of pkg.entries) {
      const relative = entry.slice('shop/'.length);
      expect(readFileSync(join(out, entry), 'utf8')).toBe(readFileSync(join(dir, relative), 'utf8'));
    }
    expect(gunzipSync(pkg.bytes).length % 512).toBe(0);
  });

  test('helm reads the package: helm show chart, lint --strict and template on the .tgz', async () => {
    const dir = chartWithExtras();
    // The fixture's template is a bare sketch; lint wants real objects.
    writeFileSync(join(dir, 'templates', 'deployment.yaml'), LINTABLE_TEMPLATE);
    const pkg = await packageChart(dir);
    const tgz = join(tempDir('baton-pkg-helm-'), 'shop-1.4.2.tgz');
    writeFileSync(tgz, pkg.bytes);
    expect((await runHelm(['show', 'chart', tgz], { check: true })).stdout).toMatch(/^name: shop$[\s\S]*^version: 1\.4\.2$/m);
    const lint = await runHelm(['lint', '--strict', tgz]);
    expect({ status: lint.status, stdout: lint.stdout }).toEqual({ status: 0, stdout: expect.stringContaining('1 chart(s) linted, 0 chart(s) failed') });
    const template = await runHelm(['template', 'r', tgz], { check: true });
    expect(template.stdout).toContain('kind: ConfigMap');
    expect(template.stdout).not.toContain('ignored');
  });

  test('a chart directory without Chart.yaml is refused', async () => {
    const dir = tempDir('baton-pkg-empty-');
    writeFileSync(join(dir, 'values.yaml'), 'a: 1\n');
    await expect(packageChart(dir)).rejects.toThrow(/failed to package .*: no Chart\.yaml/);
  });
});

describe('HelmIgnore (Helm pkg/ignore semantics)', () => {
  test.each([
    ['*.bak', 'values.yaml.bak', false, true],
    ['*.bak', 'sub/dir/x.bak', false, true],
    ['notes/', 'notes', true, true],
    ['notes/', 'notes', false, false],
    ['ci/values.yaml', 'ci/values.yaml', false, true],
    ['ci/values.yaml', 'values.yaml', false, false],
    ['/secret.txt', 'secret.txt', false, true],
    ['# comment', '# comment', false, false],
    ['', 'templates/.hidden', false, true],
    ['', 'templates/visible.yaml', false, false],
  ])('%p ignores %p (dir %p): %p', (pattern, path, isDirectory, ignored) => {
    expect(new HelmIgnore(pattern).ignores(path, isDirectory)).toBe(ignored);
  });
});
