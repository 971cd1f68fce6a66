import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { packageChart } from '../../domain/chart/package.js';
import { OciRegistry } from '../../shared/oci/registryClient.js';
import { parseReference } from '../../shared/oci/reference.js';
import { eventually, tempDir } from '../support/runtimes.js';
import { BOT, chartRepoFixture, digestOf, git, lineDiff, uniqueName } from './fixtures.js';
import { startStage } from './stageHarness.js';

/**
 * The one test on the real Online Boutique chart (charts/online-boutique), relying only on its
 * contract with chartBump: `services.<name>.image.{repository, tag, digest}` in values.yaml and
 * `version`/`appVersion` in Chart.yaml.
 */
const REGISTRY = process.env.BATON_REGISTRY ?? '127.0.0.1:5000';
const CHART = resolve('charts/online-boutique');

test('an approved run bumps the Online Boutique chart: two services, only their lines, and a publishable chart', async () => {
  const fixture = chartRepoFixture({ sourceChart: CHART, chartPath: 'charts/online-boutique' });
  const valuesPath = `${fixture.chartPath}/values.yaml`;
  const before = fixture.show(valuesPath);
  const services = Object.entries((parse(before) as { services: Record<string, { image?: { repository: string } }> }).services).filter(([, block]) => block.image);
  expect(services.length).toBeGreaterThanOrEqual(2);
  const [[first, firstBlock], [second]] = services as [[string, { image: { repository: string } }], [string, unknown]];
  const chartBefore = parse(fixture.show(`${fixture.chartPath}/Chart.yaml`)) as { name: string; version: string };

  const registryPath = `${uniqueName('baton-test')}/charts`;
  const config = `bot: {name: ${BOT.name}, email: ${BOT.email}}
pipelines:
  - name: boutique
    repository: acme/boutique
    branches: [main]
    services: [{name: ${first}, path: src/${first}/}, {name: ${second}, path: src/${second}/}]
    chart: {repo: ${fixture.bare}, path: ${fixture.chartPath}, registry: "oci://${REGISTRY}/${registryPath}"}
`;
  const stage = await startStage('in-process', config, 'chartBump');
  try {
    const images = [
      { service: first, repository: firstBlock.image.repository, tag: 'f00dfee', digest: digestOf(`${first}:f00dfee`) },
      { service: second, repository: `registry.test/boutique/${second}`, tag: 'f00dfee', digest: digestOf(`${second}:f00dfee`) },
    ];
    const runId = await stage.approve({ seq: 1, pipeline: 'boutique', images });
    expect((await stage.stageEnded(runId, 'chart')).status).toBe('succeeded');
    const event = await eventually(() => stage.chartPublished[0], 15_000, 'chart-published');

    const diff = lineDiff(before, fixture.show(valuesPath));
    expect(diff.removed).toHaveLength(5);
    // Quoting follows what the chart already uses, so compare what the lines mean.
    const added = diff.added.map((entry) => JSON.stringify(parse(entry.text.trim()))).sort();
    const expected = [{ tag: 'f00dfee' }, { digest: images[0]!.digest }, { repository: images[1]!.repository }, { tag: 'f00dfee' }, { digest: images[1]!.digest }];
    expect(added).toEqual(expected.map((entry) => JSON.stringify(entry)).sort());
    expect(event).toMatchObject({ chart: chartBefore.name, chartCommit: fixture.head() });
    expect(event.chartVersion).not.toBe(chartBefore.version);

    // The published chart is the chart at that commit, byte for byte.
    const checkout = tempDir('baton-boutique-');
    git(checkout, 'clone', '--quiet', fixture.bare, 'repo');
    const local = await packageChart(join(checkout, 'repo', fixture.chartPath));
    expect(local.entries).toContain(`${chartBefore.name}/templates/deployments.yaml`);
    const { repository, tag } = parseReference(event.ociRef);
    const manifest = await new OciRegistry(REGISTRY).getManifest(repository, tag!);
    expect((manifest!.json.layers as Array<{ digest: string }>)[0]!.digest).toBe(`sha256:${(await import('node:crypto')).createHash('sha256').update(local.bytes).digest('hex')}`);
  } finally {
    await stage.close();
  }
}, 60_000);
