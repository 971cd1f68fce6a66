import { startFakeArgoCd } from '../../standins/argocdApi.js';
import type { FakeArgoCd, FakeApplicationScript } from '../../standins/argocdApi.js';
import { RUNTIME_KINDS, eventually, logLines } from '../support/runtimes.js';
import type { RuntimeKind } from '../support/runtimes.js';
import { digestOf, uniqueName } from './fixtures.js';
import { SHA, image, startStage } from './stageHarness.js';
import { emit, newRun } from '../support/stages.js';
import type { StageHarness } from './stageHarness.js';

/**
 * deployWatch against a local fake of Argo CD's HTTP API (the only fake in these tests): it
 * refreshes the Application at once, waits for the verdict at the published chart, reports
 * `deploy-finished` once, and logs the DORA fields.
 */
const TOKEN = 'argocd-test-token-7f3a9c2e5b';

function configYaml(argocdUrl: string): string {
  return `pipelines:
  - name: shop
    repository: acme/shop
    branches: [main]
    services: [{name: svc-1, path: src/svc-1/}]
    deploy:
      argocd: {url: ${argocdUrl}, application: shop-prod, timeoutSeconds: 2, pollSeconds: 0.05}
  - name: nodeploy
    repository: acme/nodeploy
    branches: [main]
    services: [{name: svc-1, path: ""}]
`;
}

type Setup = { fake: FakeArgoCd; stage: StageHarness };

async function setup(kind: RuntimeKind, token = TOKEN, duplicateDeliveries = kind === 'in-process' ? 1 : 0): Promise<Setup> {
  const fake = await startFakeArgoCd({ token: TOKEN });
  const stage = await startStage(kind, configYaml(fake.url), 'deployWatch', { env: { ARGOCD_AUTH_TOKEN: token }, bus: { duplicateDeliveries } });
  return { fake, stage };
}

async function publishChart(s: Setup, options: { pipeline?: string; version?: string; script?: FakeApplicationScript } = {}): Promise<string> {
  const pipeline = options.pipeline ?? 'shop';
  const version = options.version ?? '1.4.3';
  const built = image('svc-1', 'abc1234');
  // Once synced, the live Pods run the published digest unless the script says otherwise.
  if (options.script) s.fake.setApplication('shop-prod', { images: { 'svc-1': `${built.repository}@${built.digest}` }, ...options.script });
  const runId = `${pipeline}-${uniqueName('deploy')}`;
  const ledger = s.stage.runtime.ledger();
  await ledger.createRun(newRun({ runId, pipeline, after: SHA, pusher: { name: 'Ada' }, services: ['svc-1'] }), new Date(Date.now() - 90_000), {}, {});
  await emit(s.stage.runtime, 'chart-published', {
    runId,
    pipeline,
    chartVersion: version,
    chart: 'shop',
    ociRef: `oci://registry.test/charts/shop:${version}`,
    manifestDigest: digestOf(`manifest ${version}`),
    chartCommit: SHA,
    images: [built],
  });
  return runId;
}

function doraLines(runId: string): Array<Record<string, unknown>> {
  return logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.event === 'deploy-finished' && entry.runId === runId);
}

async function finished(s: Setup, runId: string) {
  const event = await eventually(() => s.stage.deployFinished.find((entry) => entry.runId === runId), 20_000, `deploy-finished for ${runId}`);
  const record = await s.stage.stageEnded(runId, 'deploy');
  return { event, record };
}

describe.each(RUNTIME_KINDS)('deployWatch (%s runtime)', (kind) => {
  let s: Setup;
  beforeEach(async () => {
    s = await setup(kind);
  });
  afterEach(async () => {
    await s.stage.close();
    await s.fake.close();
  });

  test('refreshes at once, waits for Synced and Healthy at the published chart, reports once', async () => {
    const runId = await publishChart(s, { script: { outcome: 'healthy', pollsUntilDone: 3, revision: '1.4.3' } });
    const { event, record } = await finished(s, runId);
    expect(event).toMatchObject({ runId, pipeline: 'shop', status: 'synced', application: 'shop-prod', revision: '1.4.3' });
    expect(record.status).toBe('succeeded');
    expect((await s.stage.runtime.ledger().getRun(runId))?.status).toBe('succeeded');

    // The first call is the refresh; every call carries the token; the old Synced/Healthy did not count.
    expect(s.fake.calls[0]).toMatchObject({ path: '/api/v1/applications/shop-prod', query: { refresh: 'normal' }, authorization: `Bearer ${TOKEN}` });
    expect(s.fake.calls.filter((call) => !call.query.refresh).length).toBeGreaterThanOrEqual(3);

    await new Promise((resolve) => setTimeout(resolve, 300)); // a duplicate delivery would report again by now
    expect(s.stage.deployFinished.filter((entry) => entry.runId === runId)).toHaveLength(1);
    const [line, ...more] = doraLines(runId);
    expect(more).toHaveLength(0);
    expect(line).toMatchObject({ component: 'baton', event: 'deploy-finished', status: 'synced', pipeline: 'shop', runId });
    expect(line!.leadTimeSeconds).toBeGreaterThanOrEqual(90);
    expect(line!.restoreSeconds).toBeUndefined();
    expect(logLines.join('\n')).not.toContain(TOKEN);
  });

  test('with no Argo CD configured the deploy is skipped, and says why', async () => {
    const runId = await publishChart(s, { pipeline: 'nodeploy' });
    const { event, record } = await finished(s, runId);
    expect(event).toMatchObject({ status: 'skipped', reason: 'no Argo CD configured for pipeline nodeploy' });
    expect(record).toMatchObject({ status: 'skipped', detail: 'no Argo CD configured for pipeline nodeploy' });
    expect(s.fake.calls).toHaveLength(0);
  });
});

describe('deployWatch verdicts (in-process runtime)', () => {
  let s: Setup;
  beforeEach(async () => {
    s = await setup('in-process');
  });
  afterEach(async () => {
    await s.stage.close();
    await s.fake.close();
  });

  test.each<[string, FakeApplicationScript, Record<string, unknown>, RegExp | undefined]>([
    ['Degraded at the published chart', { outcome: 'degraded', pollsUntilDone: 2, revision: '1.4.3', message: 'Deployment "svc-1" exceeded its progress deadline' }, { status: 'degraded', revision: '1.4.3' }, /Degraded: Deployment "svc-1" exceeded its progress deadline/],
    ['never synced before the deadline', { outcome: 'never' }, { status: 'timeout' }, /not Synced and Healthy at 1\.4\.3 after 2 s \(last: OutOfSync\/Progressing at 0\.0\.1\)/],
    ['a newer chart already synced', { outcome: 'healthy', pollsUntilDone: 1, revision: '1.4.9' }, { status: 'synced', revision: '1.4.9' }, undefined],
    ['synced to the chart by OCI digest', { outcome: 'healthy', pollsUntilDone: 1, revision: digestOf('manifest 1.4.3') }, { status: 'synced', revision: digestOf('manifest 1.4.3') }, undefined],
    ['transient API errors are retried', { outcome: 'healthy', pollsUntilDone: 1, revision: '1.4.3', failFirst: 2 }, { status: 'synced' }, undefined],
    ['the API keeps failing', { outcome: 'healthy', failFirst: 100 }, { status: 'failed' }, /failed to refresh Argo CD application shop-prod: HTTP 500/],
    // Synced and Healthy is not enough: the live Pods still run the old image (argocd-image-updater #964).
    [
      'Synced and Healthy, but the pods run another digest',
      { outcome: 'healthy', pollsUntilDone: 1, revision: '1.4.3', images: { 'svc-1': `registry.test/shop/svc-1@${digestOf('an older build')}` } },
      { status: 'timeout' },
      /the live pods do not run the release after 2 s: svc-1: no pod runs sha256:.*; svc-1: pod svc-1-/,
    ],
  ])('%s', async (_name, script, expected, reason) => {
    const runId = await publishChart(s, { script });
    const { event, record } = await finished(s, runId);
    expect(event).toMatchObject(expected);
    if (reason) expect(event.reason).toMatch(reason);
    expect(record.status).toBe(expected.status === 'synced' ? 'succeeded' : 'failed');
  });

  test('a newer release of the environment taking over ends the deploy superseded, not failed', async () => {
    const runId = await publishChart(s, { script: { outcome: 'healthy', pollsUntilDone: 1, revision: '1.4.9', images: { 'svc-1': `registry.test/shop/svc-1@${digestOf('the newer build')}` } } });
    // chartBump recorded this run's release, then a newer run's, in the environment's history.
    const environments = s.stage.runtime.ledger().environments;
    const at = new Date().toISOString();
    for (const [id, order] of [[runId, '1'], [`${runId}-newer`, '2']] as const) {
      await environments.recordDeployment('shop', { environment: 'default', runId: id, order, release: {}, images: [], at, status: 'in-progress', kind: 'promotion' });
    }
    const { event, record } = await finished(s, runId);
    expect(event).toMatchObject({ status: 'superseded', revision: '1.4.9' });
    expect(event.reason).toMatch(/a newer release of the environment took over before 1\.4\.3 was running/);
    expect(record.status).toBe('superseded');
    // Its deployment is marked superseded, not failed.
    expect((await environments.get('shop', 'default')).history.find((entry) => entry.runId === runId)!.status).toBe('superseded');
  });

  test('the first good deploy after a failed one logs restoreSeconds', async () => {
    const bad = await publishChart(s, { script: { outcome: 'degraded', pollsUntilDone: 1, revision: '1.4.3' } });
    await finished(s, bad);
    const good = await publishChart(s, { version: '1.4.4', script: { outcome: 'healthy', pollsUntilDone: 1, revision: '1.4.4' } });
    await finished(s, good);
    const after = await publishChart(s, { version: '1.4.5', script: { outcome: 'healthy', pollsUntilDone: 1, revision: '1.4.5' } });
    await finished(s, after);
    expect(doraLines(bad)[0]).toMatchObject({ status: 'degraded' });
    expect(doraLines(bad)[0]!.restoreSeconds).toBeUndefined();
    expect(doraLines(good)[0]!.restoreSeconds).toEqual(expect.any(Number));
    expect(doraLines(after)[0]!.restoreSeconds).toBeUndefined();
  });
});

describe('deployWatch with a wrong token', () => {
  test('fails at once with the HTTP status, and the token appears nowhere', async () => {
    const wrong = 'wrong-token-0123456789abcdef';
    const s = await setup('in-process', wrong, 0);
    try {
      const runId = await publishChart(s, { script: { outcome: 'healthy' } });
      const { event } = await finished(s, runId);
      expect(event.status).toBe('failed');
      expect(event.reason).toMatch(/HTTP 401/);
      expect(s.fake.calls).toHaveLength(1);
      expect(JSON.stringify(event)).not.toContain(wrong);
      expect(logLines.join('\n')).not.toContain(wrong);
    } finally {
      await s.stage.close();
      await s.fake.close();
    }
  });
});
