import { join } from 'node:path';
import { parse } from 'yaml';
import { readChartTexts, writeChartTexts } from '../../domain/chart/chartDir.js';
import { applyImagesToChart } from '../../domain/chart/chartEdit.js';
import { ChartRepo } from '../../domain/chart/chartRepo.js';
import type { PreparedChange } from '../../domain/chart/chartRepo.js';
import { botCommitMessage, botCommitRun } from '../../shared/git/botCommit.js';
import { tempDir } from '../support/runtimes.js';
import { BOT, chartRepoFixture, digestOf, git, lineDiff } from './fixtures.js';
import type { ChartRepoFixture } from './fixtures.js';

/**
 * The chart repo's write path against a real bare repository that refuses non-fast-forward
 * pushes: concurrent bumps all land, each on the head it lost to, and nothing is ever forced.
 */
function bumpService(fixture: ChartRepoFixture, service: string, tag: string, runId: string) {
  return async (workTree: string): Promise<PreparedChange<string>> => {
    const chartDir = join(workTree, fixture.chartPath);
    const result = applyImagesToChart(await readChartTexts(chartDir), [{ service, tag, digest: digestOf(`${service}:${tag}`) }]);
    if (!result.changed) return { kind: 'none', value: result.version };
    await writeChartTexts(chartDir, result.texts);
    return { kind: 'commit', message: botCommitMessage(`chart: ${service} to ${tag}`, runId), paths: [join(fixture.chartPath, 'values.yaml'), join(fixture.chartPath, 'Chart.yaml')], value: result.version };
  };
}

function chartRepo(fixture: ChartRepoFixture): ChartRepo {
  return new ChartRepo({ url: fixture.bare, branch: 'main', bot: BOT, cacheDir: tempDir('baton-chart-cache-') });
}

describe('ChartRepo', () => {
  test('20 concurrent bumps of different services from separate instances all land, none lost, none forced', async () => {
    const fixture = chartRepoFixture({ services: 20 });
    const seed = fixture.head();
    const repos = Array.from({ length: 20 }, () => chartRepo(fixture));
    const started = Date.now();
    const outcomes = await Promise.all(repos.map((repo, index) => repo.update(bumpService(fixture, `svc-${index}`, `t${index}`, `run-${index}`))));
    const elapsed = Date.now() - started;

    expect(outcomes.every((outcome) => outcome.pushed)).toBe(true);
    // Every service holds its own digest at the tip: no bump overwrote another.
    const values = parse(fixture.show(`${fixture.chartPath}/values.yaml`)) as { services: Record<string, { image: { tag: string; digest: string } }> };
    for (let index = 0; index < 20; index++) {
      expect(values.services[`svc-${index}`]!.image).toMatchObject({ tag: `t${index}`, digest: digestOf(`svc-${index}:t${index}`) });
    }
    // 20 bot commits in a straight line on the seed, each with a distinct patch version.
    const log = fixture.log();
    expect(log).toHaveLength(21);
    expect(log[20]!.sha).toBe(seed);
    expect(git(fixture.bare, 'rev-list', '--merges', 'main')).toBe('');
    expect(new Set(log.slice(0, 20).map((commit) => botCommitRun(commit.message))).size).toBe(20);
    expect(log.slice(0, 20).every((commit) => commit.author === BOT.email)).toBe(true);
    expect(new Set(outcomes.map((outcome) => outcome.value)).size).toBe(20);
    expect((parse(fixture.show(`${fixture.chartPath}/Chart.yaml`)) as { version: string }).version).toBe('1.4.22');
    // Each commit changed exactly its service's two lines and the version line.
    for (const outcome of outcomes) {
      const before = fixture.show(`${fixture.chartPath}/values.yaml`, `${outcome.commit}~1`);
      const after = fixture.show(`${fixture.chartPath}/values.yaml`, outcome.commit);
      expect(lineDiff(before, after).removed).toHaveLength(2);
    }
    expect(Math.max(...outcomes.map((outcome) => outcome.attempts))).toBeGreaterThan(1); // they really raced
    process.stdout.write(`20 concurrent bumps landed in ${elapsed} ms (max attempts ${Math.max(...outcomes.map((outcome) => outcome.attempts))})\n`);
    await Promise.all(repos.map((repo) => repo.close()));
  }, 120_000);

  test('one instance serves concurrent bumps from separate clones, then reuses them', async () => {
    const fixture = chartRepoFixture({ services: 6 });
    const repo = chartRepo(fixture);
    const outcomes = await Promise.all([0, 1, 2, 3, 4, 5].map((index) => repo.update(bumpService(fixture, `svc-${index}`, 'v1', `run-${index}`))));
    expect(outcomes.every((outcome) => outcome.pushed)).toBe(true);
    // A kept clone is stale now; the next bump still lands on the real head.
    const next = await repo.update(bumpService(fixture, 'svc-0', 'v2', 'run-next'));
    expect(next.pushed).toBe(true);
    expect(fixture.head()).toBe(next.commit);
    expect(fixture.log()).toHaveLength(8);
    await repo.close();
  });

  test('a bump the head already holds is not committed again, and its run commit is found by trailer', async () => {
    const fixture = chartRepoFixture();
    const repo = chartRepo(fixture);
    const first = await repo.update(bumpService(fixture, 'svc-1', 'v7', 'run-77'));
    await repo.update(bumpService(fixture, 'svc-2', 'v8', 'run-78'));
    const other = chartRepo(fixture); // a fresh instance, as after a redelivery elsewhere
    const again = await other.update(bumpService(fixture, 'svc-1', 'v7', 'run-77'));
    expect(again).toMatchObject({ pushed: false, commit: fixture.head() });
    expect(fixture.log()).toHaveLength(3);
    expect(await other.findRunCommit('run-77')).toBe(first.commit);
    expect(await other.findRunCommit('run-404')).toBeUndefined();
    await repo.close();
    await other.close();
  });

  test('a push error that is not a lost race fails with a redacted message', async () => {
    const repo = new ChartRepo({ url: 'https://user:s3cr3t-t0ken@127.0.0.1:9/charts.git', branch: 'main', bot: BOT, cacheDir: tempDir('baton-chart-cache-') });
    const failure = repo.update(async () => ({ kind: 'none', value: undefined }));
    await expect(failure).rejects.toThrow(/failed to clone the chart repo/);
    await expect(failure).rejects.not.toThrow(/s3cr3t-t0ken/);
  });
});
