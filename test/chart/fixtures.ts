import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from '../support/runtimes.js';

/**
 * Fixtures for the chart tests: a small chart of our own (the real Online Boutique chart is
 * used by one integration test only), real bare git repositories seeded with it, and a
 * line diff to check that an edit touched exactly the intended lines.
 */
export const BOT = { name: 'baton-bot', email: 'baton-bot@users.noreply.baton.dev' };

/** A digest that looks real and is unique per seed. */
export function digestOf(seed: string): string {
  return `sha256:${createHash('sha256').update(seed).digest('hex')}`;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export const FIXTURE_CHART_YAML = `apiVersion: v2
name: shop
description: A fixture chart for baton's chart tests.
type: application
# chartBump patch-bumps this.
version: 1.4.2
appVersion: "0000000"
`;

/** Values for `count` services named svc-0 … svc-(count-1), plus comments and unrelated keys. */
export function fixtureValues(count: number): string {
  const blocks = Array.from({ length: count }, (_, index) => `  # Service ${index}.
  svc-${index}:
    replicas: 1
    image:
      repository: registry.test/shop/svc-${index}
      tag: "0000000"
      digest: ""
`);
  return `# Fixture values.
global:
  pullPolicy: IfNotPresent

services:
${blocks.join('\n')}`;
}

export function writeFixtureChart(dir: string, services = 3): string {
  mkdirSync(join(dir, 'templates'), { recursive: true });
  writeFileSync(join(dir, 'Chart.yaml'), FIXTURE_CHART_YAML);
  writeFileSync(join(dir, 'values.yaml'), fixtureValues(services));
  writeFileSync(join(dir, '.helmignore'), '# ignored when packaging\n*.bak\nnotes/\n');
  writeFileSync(join(dir, 'templates', 'deployment.yaml'), '{{- range $name, $svc := .Values.services }}\n---\nkind: Deployment\nmetadata: {name: {{ $name }}}\n{{- end }}\n');
  return dir;
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

export type ChartRepoFixture = {
  /** The bare repo (what chart.repo points at). */
  bare: string;
  /** Chart directory inside the repo. */
  chartPath: string;
  /** Reads a file at the tip of `main`. */
  show(path: string, ref?: string): string;
  /** Commit subjects and trailers, newest first. */
  log(): Array<{ sha: string; author: string; message: string }>;
  head(): string;
};

/**
 * A bare chart repo seeded with a chart (the fixture, or a copy of `sourceChart`). Non-fast-
 * forward pushes are refused by the repo itself, so a force push would fail loudly.
 */
export function chartRepoFixture(options: { services?: number; sourceChart?: string; chartPath?: string } = {}): ChartRepoFixture {
  const root = tempDir('baton-chart-repo-');
  const bare = join(root, 'charts.git');
  const seed = join(root, 'seed');
  const chartPath = options.chartPath ?? 'charts/shop';
  mkdirSync(bare, { recursive: true });
  git(bare, 'init', '--quiet', '--bare', '--initial-branch', 'main');
  git(bare, 'config', 'receive.denyNonFastForwards', 'true');
  git(bare, 'config', 'receive.denyDeletes', 'true');
  mkdirSync(seed, { recursive: true });
  git(seed, 'init', '--quiet', '--initial-branch', 'main');
  if (options.sourceChart) {
    mkdirSync(dirname(join(seed, chartPath)), { recursive: true });
    cpSync(options.sourceChart, join(seed, chartPath), { recursive: true });
  } else {
    writeFixtureChart(join(seed, chartPath), options.services ?? 3);
  }
  writeFileSync(join(seed, 'README.md'), 'chart repo\n');
  git(seed, 'add', '--all');
  git(seed, 'commit', '--quiet', '-m', 'seed the chart repo');
  git(seed, 'remote', 'add', 'origin', bare);
  git(seed, 'push', '--quiet', 'origin', 'main');
  return {
    bare,
    chartPath,
    show: (path, ref = 'main') => git(bare, 'show', `${ref}:${path}`),
    log: () =>
      git(bare, 'log', '--format=%H%x1f%ae%x1f%B%x1e', 'main')
        .split('\x1e')
        .map((entry) => entry.trim())
        .filter(Boolean)
        .map((entry) => {
          const [sha, author, message] = entry.split('\x1f') as [string, string, string];
          return { sha, author, message };
        }),
    head: () => git(bare, 'rev-parse', 'main'),
  };
}

export type LineDiff = { removed: Array<{ line: number; text: string }>; added: Array<{ line: number; text: string }> };

/** A line diff (LCS): which lines of `before` went, which lines of `after` came (1-based). */
export function lineDiff(before: string, after: string): LineDiff {
  const a = before.split('\n');
  const b = after.split('\n');
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const diff: LineDiff = { removed: [], added: [] };
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (j < b.length && (i === a.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      diff.added.push({ line: j + 1, text: b[j]! });
      j++;
    } else {
      diff.removed.push({ line: i + 1, text: a[i]! });
      i++;
    }
  }
  return diff;
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}
