import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { x as extract } from 'tar';
import { readFileSync } from 'node:fs';
import { bumpChart } from '../../functions/chartBump/bump.js';
import type { ChartBumpDeps } from '../../functions/chartBump/bump.js';
import { ChartRepo } from '../../domain/chart/chartRepo.js';
import { makeEvent } from '../../shared/contracts/index.js';
import { testRuntime } from '../support/runtimes.js';
import { claimKeys } from '../../shared/ledger/claimKeys.js';
import { isBotCommit } from '../../shared/git/botCommit.js';
import { OciRegistry } from '../../shared/oci/registryClient.js';
import { parseReference } from '../../shared/oci/reference.js';
import { RUNTIME_KINDS, eventually, tempDir } from '../support/runtimes.js';
import type { RuntimeKind } from '../support/runtimes.js';
import { BOT, chartRepoFixture, uniqueName } from './fixtures.js';
import type { ChartRepoFixture } from './fixtures.js';
import { SHA, image, orderOf, startStage } from './stageHarness.js';
import { newRun } from '../support/stages.js';
import type { StageHarness } from './stageHarness.js';

/**
 * chartBump end to end, on both runtimes: a real bare chart repo, the real docker-registry, the
 * real bus and ledger. An approved run leaves one bot commit and one chart version, both with
 * the approved digests; duplicates, out-of-order approvals and bad input never add a second
 * effect or move a service backwards.
 */
const REGISTRY = process.env.BATON_REGISTRY ?? '127.0.0.1:5000';
const SERVICES = 10;

function configYaml(fixture: ChartRepoFixture, registryPath: string): string {
  const services = Array.from({ length: SERVICES }, (_, index) => `      - {name: svc-${index}, path: src/svc-${index}/}`).join('\n');
  return `bot: {name: ${BOT.name}, email: ${BOT.email}}
pipelines:
  - name: shop
    repository: acme/shop
    branches: [main]
    services:
${services}
    chart:
      repo: ${fixture.bare}
      path: ${fixture.chartPath}
      registry: oci://${REGISTRY}/${registryPath}
  - name: infra
    kind: terraform
    repository: acme/infra
    branches: [main]
    services: []
  - name: nochart
    repository: acme/nochart
    branches: [main]
    services: [{name: svc-0, path: ""}]
`;
}

type Setup = { fixture: ChartRepoFixture; stage: StageHarness; registryPath: string; registry: OciRegistry };

async function setup(kind: RuntimeKind, duplicateDeliveries = 0): Promise<Setup> {
  const fixture = chartRepoFixture({ services: SERVICES });
  const registryPath = `${uniqueName('baton-test')}/charts`;
  const stage = await startStage(kind, configYaml(fixture, registryPath), 'chartBump', { bus: { duplicateDeliveries } });
  return { fixture, stage, registryPath, registry: new OciRegistry(REGISTRY) };
}

function valuesAt(fixture: ChartRepoFixture, ref = 'main') {
  return (parse(fixture.show(`${fixture.chartPath}/values.yaml`, ref)) as { services: Record<string, { image: { repository: string; tag: string; digest: string } }> }).services;
}

async function chartValuesInRegistry(registry: OciRegistry, ociRef: string): Promise<string> {
  const { repository, tag } = parseReference(ociRef);
  const manifest = await registry.getManifest(repository, tag!);
  const layer = manifest!.json.layers as Array<{ digest: string }>;
  const out = tempDir('baton-pulled-');
  writeFileSync(join(out, 'chart.tgz'), await registry.getBlob(repository, layer[0]!.digest));
  await extract({ file: join(out, 'chart.tgz'), cwd: out });
  return readFileSync(join(out, 'shop', 'values.yaml'), 'utf8');
}

describe.each(RUNTIME_KINDS)('chartBump (%s runtime)', (kind) => {
  let s: Setup;
  beforeEach(async () => {
    // The in-process bus delivers every message twice, as Pub/Sub may.
    s = await setup(kind, kind === 'in-process' ? 1 : 0);
  });
  afterEach(() => s.stage.close());

  test('an approved run leaves one bot commit and one chart version, both with the approved digests', async () => {
    const seedCommits = s.fixture.log().length;
    const images = [image('svc-1', 'abc1234'), image('svc-2', 'abc1234')];
    const runId = await s.stage.approve({ seq: 1, images, duplicate: kind === 'emulators' });
    const record = await s.stage.stageEnded(runId, 'chart');
    expect(record.status).toBe('succeeded');
    await eventually(() => (s.stage.chartPublished.length ? true : undefined), 15_000, 'chart-published');
    await new Promise((resolve) => setTimeout(resolve, 500)); // time for a duplicate to show up

    // One new commit, by the bot, that intake recognises as the pipeline's own.
    const log = s.fixture.log();
    expect(log).toHaveLength(seedCommits + 1);
    expect(isBotCommit({ message: log[0]!.message, author: { email: log[0]!.author } }, BOT)).toBe(true);
    expect(log[0]!.message).toContain(`Baton-Run: ${runId}`);
    const values = valuesAt(s.fixture);
    for (const built of images) expect(values[built.service]!.image).toEqual({ repository: built.repository, tag: built.tag, digest: built.digest });
    expect(values['svc-3']!.image.digest).toBe('');
    expect((parse(s.fixture.show(`${s.fixture.chartPath}/Chart.yaml`)) as { version: string; appVersion: string })).toMatchObject({ version: '1.4.3', appVersion: 'abc1234' });

    // One chart-published, pointing at that commit and at the chart version in the registry.
    expect(s.stage.chartPublished).toHaveLength(1);
    const event = s.stage.chartPublished[0]!;
    expect(event).toMatchObject({ runId, pipeline: 'shop', chart: 'shop', chartVersion: '1.4.3', version: 1, ociRef: `oci://${REGISTRY}/${s.registryPath}/shop:1.4.3`, chartCommit: s.fixture.head() });
    expect(event.images.map((entry) => entry.service)).toEqual(['svc-1', 'svc-2']);
    expect(await s.registry.manifestDigest(`${s.registryPath}/shop`, '1.4.3')).toBe(event.manifestDigest);
    const published = parse(await chartValuesInRegistry(s.registry, event.ociRef)) as { services: Record<string, { image: { digest: string } }> };
    expect(published.services['svc-1']!.image.digest).toBe(images[0]!.digest);
    expect(published.services['svc-2']!.image.digest).toBe(images[1]!.digest);
    expect(record.links).toMatchObject({ chart: event.ociRef, commit: event.chartCommit, manifest: event.manifestDigest });
  });

  test('approvals arriving out of order never move a service backwards', async () => {
    const newer = await s.stage.approve({ seq: 5, images: [image('svc-4', 'new5555'), image('svc-5', 'new5555')] });
    expect((await s.stage.stageEnded(newer, 'chart')).status).toBe('succeeded');
    // Run 4 comes late: svc-4 is superseded; run 3 only touched svc-4 and is superseded entirely.
    const older = await s.stage.approve({ seq: 4, images: [image('svc-4', 'old4444'), image('svc-6', 'old4444')] });
    const oldest = await s.stage.approve({ seq: 3, images: [image('svc-4', 'old3333')] });
    expect((await s.stage.stageEnded(older, 'chart')).detail).toMatch(/superseded by newer runs: svc-4/);
    const oldestRecord = await s.stage.stageEnded(oldest, 'chart');
    expect(oldestRecord.status).toBe('superseded');
    expect(oldestRecord.detail).toMatch(/never moves a service back/);

    const values = valuesAt(s.fixture);
    expect(values['svc-4']!.image.tag).toBe('new5555');
    expect(values['svc-5']!.image.tag).toBe('new5555');
    expect(values['svc-6']!.image.tag).toBe('old4444');
    expect(s.fixture.log().filter((commit) => commit.message.includes(oldest))).toHaveLength(0);
    const run = await s.stage.runtime.ledger().getRun(oldest);
    expect(run?.status).toBe('superseded');
  });

  test('a redelivery after the push but before it was recorded finds the commit instead of committing again', async () => {
    const runId = await s.stage.approve({ seq: 7, images: [image('svc-7', 'abc7777')] });
    await s.stage.stageEnded(runId, 'chart');
    await eventually(() => (s.stage.chartPublished.length ? true : undefined), 15_000, 'chart-published');
    const commits = s.fixture.log().length;
    const first = s.stage.chartPublished[0]!;
    // Forget everything the ledger recorded after the push, as if the instance died right after it.
    const ledger = s.stage.runtime.ledger();
    await ledger.releaseClaim(claimKeys.chartCommit(runId));
    await ledger.updateRun(runId, (run) => {
      delete run.stages.chart;
      delete run.outbox['chart-published'];
      return true;
    });
    await s.stage.approve({ runId, seq: 7, images: [image('svc-7', 'abc7777')] });
    await s.stage.stageEnded(runId, 'chart');
    await eventually(() => (s.stage.chartPublished.length >= 2 ? true : undefined), 15_000, 'second chart-published');
    expect(s.fixture.log()).toHaveLength(commits);
    expect(s.stage.chartPublished[1]).toMatchObject({ chartCommit: first.chartCommit, chartVersion: first.chartVersion, manifestDigest: first.manifestDigest });
  });

  test('a rejected run, a terraform pipeline and a pipeline without chart settings change nothing', async () => {
    const commits = s.fixture.log().length;
    const rejected = await s.stage.approve({ seq: 8, images: [image('svc-8', 'abc8888')], decision: 'rejected' });
    const terraform = await s.stage.approve({ seq: 1, pipeline: 'infra', images: [image('svc-8', 'abc8888')] });
    const unconfigured = await s.stage.approve({ seq: 1, pipeline: 'nochart', images: [image('svc-0', 'abc0000')] });
    // The rejection ended the run; the chart stage is one it never reached.
    expect(await s.stage.stageEnded(rejected, 'chart')).toMatchObject({ status: 'skipped', detail: 'not run: approval: rejected by Ada via slack' });
    // A Terraform run has no chart stage: chartBump serves app pipelines only, and leaves it alone.
    await eventually(async () => ((await s.stage.runtime.ledger().getRun(terraform))?.outbox['approval-decided']?.handled?.chartBump ? true : undefined), 15_000, 'chartBump to take the Terraform approval');
    expect((await s.stage.runtime.ledger().getRun(terraform))?.stages.chart).toBeUndefined();
    const failed = await s.stage.stageEnded(unconfigured, 'chart');
    expect(failed.status).toBe('failed');
    expect(failed.detail).toMatch(/BATON_CONFIG test-config\.yaml: pipelines\[2\]\.chart\.repo: missing; chartBump needs it/);
    expect(s.fixture.log()).toHaveLength(commits);
  });

  test('an image for a service the chart does not have fails the stage and leaves the repo alone', async () => {
    const commits = s.fixture.log().length;
    const runId = await s.stage.approve({ seq: 9, images: [image('svc-9', 'abc9999'), image('svc-404', 'abc9999')] });
    const record = await s.stage.stageEnded(runId, 'chart');
    expect(record.status).toBe('failed');
    expect(record.detail).toMatch(/unknown service "svc-404": services\.svc-404\.image not found in values\.yaml/);
    expect(s.fixture.log()).toHaveLength(commits);
    expect(s.stage.chartPublished).toHaveLength(0);
  });
});

describe('chartBump under concurrent approvals (in-process runtime)', () => {
  test('8 runs of different services approved at once all land, each in its own chart version', async () => {
    const s = await setup('in-process');
    try {
      const runs = await Promise.all(Array.from({ length: 8 }, (_, index) => s.stage.approve({ seq: index + 1, images: [image(`svc-${index}`, `c${index}`)] })));
      for (const runId of runs) expect((await s.stage.stageEnded(runId, 'chart', 120_000)).status).toBe('succeeded');
      const values = valuesAt(s.fixture);
      for (let index = 0; index < 8; index++) expect(values[`svc-${index}`]!.image.tag).toBe(`c${index}`);
      await eventually(() => (s.stage.chartPublished.length === 8 ? true : undefined), 15_000, '8 chart-published');
      expect(new Set(s.stage.chartPublished.map((event) => event.chartVersion)).size).toBe(8);
      expect(s.fixture.log()).toHaveLength(9);
    } finally {
      await s.stage.close();
    }
  }, 180_000);

  test('two runs of one service approved at once never leave the older one last', async () => {
    const s = await setup('in-process');
    try {
      // Four services, each with an older and a newer run approved in the same instant, older first.
      const pairs = [0, 1, 2, 3].map((index) => ({ service: `svc-${index}`, older: 10 + 2 * index, newer: 11 + 2 * index }));
      const runs = await Promise.all(
        pairs.flatMap(({ service, older, newer }) => [
          s.stage.approve({ seq: older, images: [image(service, `old${older}`)] }),
          s.stage.approve({ seq: newer, images: [image(service, `new${newer}`)] }),
        ]),
      );
      for (const runId of runs) await s.stage.stageEnded(runId, 'chart', 120_000);
      const values = valuesAt(s.fixture);
      for (const { service, newer } of pairs) expect(values[service]!.image.tag).toBe(`new${newer}`);
      // Whatever landed, the history never shows a service going from a newer tag to an older one.
      for (const { service } of pairs) {
        const tags = s.fixture.log().reverse().map((commit) => valuesAt(s.fixture, commit.sha)[service]!.image.tag);
        const seqs = tags.filter((tag) => tag !== '0000000').map((tag) => Number(tag.replace(/\D/g, '')));
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      }
    } finally {
      await s.stage.close();
    }
  }, 180_000);
});

describe('chartBump ordering, step by step', () => {
  test('a newer run that claims and lands between an older run\'s claim and its push makes the older one superseded', async () => {
    const fixture = chartRepoFixture({ services: SERVICES });
    const runtime = testRuntime('in-process', configYaml(fixture, `${uniqueName('baton-test')}/charts`));
    const repo = new ChartRepo({ url: fixture.bare, branch: 'main', bot: BOT, cacheDir: tempDir('baton-chart-cache-') });
    let beforeUpdate: (() => Promise<void>) | undefined;
    // The same repo, with a pause before each update where the test lets another run go first.
    const paused = Object.create(repo) as ChartRepo;
    paused.update = (async (...args: Parameters<ChartRepo['update']>) => {
      const step = beforeUpdate;
      beforeUpdate = undefined;
      await step?.();
      return repo.update(...args);
    }) as ChartRepo['update'];
    const deps: ChartBumpDeps = {
      config: runtime.config(),
      ledger: runtime.ledger(),
      log: runtime.log,
      chartRepo: () => paused,
      registry: () => new OciRegistry(REGISTRY),
      progress: async () => undefined,
    };
    const decided = (seq: number, tag: string) =>
      makeEvent('approval-decided', { runId: `shop-${seq}`, pipeline: 'shop', decision: 'approved', decidedBy: { id: 'U1', via: 'cli' }, images: [image('svc-5', tag)], sha: SHA, order: orderOf(seq, `shop-${seq}`) });
    for (const seq of [20, 21]) {
      await deps.ledger.createRun(newRun({ runId: `shop-${seq}`, after: SHA, services: ['svc-5'], order: orderOf(seq, `shop-${seq}`) }), new Date(), {}, {});
    }
    const commits = fixture.log().length;
    let newer: Awaited<ReturnType<typeof bumpChart>> | undefined;
    beforeUpdate = async () => {
      newer = await bumpChart(decided(21, 'new21'), deps);
    };
    const older = await bumpChart(decided(20, 'old20'), deps);

    expect(valuesAt(fixture)['svc-5']!.image.tag).toBe('new21');
    expect(fixture.log()).toHaveLength(commits + 1);
    expect(older).toMatchObject({ status: 'superseded' });
    expect(newer).toMatchObject({ status: 'succeeded', emit: [expect.objectContaining({ topic: 'chart-published' })] });
    await repo.close();
    await runtime.ledger().close();
  });
});
