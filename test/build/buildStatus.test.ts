import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { handleBuildNotification } from '../../functions/buildStatus/status.js';
import { newRun } from '../support/stages.js';
import type { BuildStatus, CloudBuildNotification } from '../../shared/contracts/index.js';
import { OciRegistry } from '../../shared/oci/registryClient.js';
import { parseReference } from '../../shared/oci/reference.js';
import { REGISTRY, startHarness } from './harness.js';
import type { Harness } from './harness.js';

jest.setTimeout(60_000);

/**
 * buildStatus against Cloud Build's real notification format (the Build resource as JSON data;
 * attributes `buildId` and `status`), delivered shuffled and duplicated on the in-process bus,
 * with the SUCCESS digest confirmed in the real local registry.
 */
const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

/** A Build resource as Cloud Build publishes it on `cloud-builds` (fields as in the v1 REST API). */
function buildJson(id: string, status: BuildStatus, image: string, runId: string, extra: Record<string, unknown> = {}): CloudBuildNotification {
  const terminal = ['SUCCESS', 'FAILURE', 'INTERNAL_ERROR', 'TIMEOUT', 'CANCELLED', 'EXPIRED'].includes(status);
  return {
    name: `projects/123456789/locations/global/builds/${id}`,
    id,
    projectId: 'acme-ci',
    status,
    source: { gitSource: { url: 'https://europe-west1-git.sourcemanager.dev/acme-ci/shop.git', revision: SHA } },
    steps: [{ name: 'gcr.io/cloud-builders/docker', args: ['build', '--file', 'src/frontend/Dockerfile', '--tag', image, 'src/frontend'], id: 'build', status: terminal ? status : 'QUEUED' }],
    createTime: '2026-11-26T09:00:00.123456Z',
    ...(status !== 'QUEUED' ? { startTime: '2026-11-26T09:00:05.5Z' } : {}),
    ...(terminal ? { finishTime: '2026-11-26T09:01:40.25Z' } : {}),
    timeout: '600s',
    images: [image],
    queueTtl: '3600s',
    logsBucket: 'gs://123456789.cloudbuild-logs.googleusercontent.com',
    sourceProvenance: { resolvedGitSource: { url: 'https://europe-west1-git.sourcemanager.dev/acme-ci/shop.git', revision: SHA } },
    options: { substitutionOption: 'ALLOW_LOOSE', logging: 'LEGACY', pool: {} },
    logUrl: `https://console.cloud.google.com/cloud-build/builds/${id}?project=123456789`,
    substitutions: { _BATON_RUN_ID: runId, _BATON_SERVICE: 'frontend', _BATON_PIPELINE: 'shop', _BATON_SHA: SHA },
    tags: ['baton', `run-${runId}`, 'svc-frontend'],
    ...extra,
  } as CloudBuildNotification;
}

const shuffle = <T>(items: T[]): T[] =>
  items
    .map((item) => ({ item, key: Math.random() }))
    .sort((a, b) => a.key - b.key)
    .map(({ item }) => item);

/** Pushes a minimal real image to the local registry and returns its digest. */
async function pushImage(image: string): Promise<string> {
  const { repository, tag } = parseReference(image);
  const registry = new OciRegistry(REGISTRY);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: {}, created: new Date().toISOString() }));
  const configDigest = await registry.pushBlob(repository, config);
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length }, layers: [] }),
  );
  return registry.putManifest(repository, tag!, manifest, 'application/vnd.oci.image.manifest.v1+json');
}

describe('buildStatus', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ kind: 'in-process', duplicateDeliveries: 1, targets: ['buildStatus'] });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function startedRun(): Promise<{ runId: string; buildId: string; image: string }> {
    const runId = `shop-${randomUUID().slice(0, 8)}`;
    const buildId = randomUUID();
    const image = `${h.imageRoot}/frontend:${SHA.slice(0, 7)}`;
    const ledger = h.runtime.ledger();
    await ledger.createRun(newRun({ runId, before: SHA, after: SHA, services: ['frontend'] }), new Date(), {}, {});
    await ledger.claim(`build:${runId}:frontend`, { buildId, service: 'frontend', startingAt: new Date().toISOString() });
    await ledger.builds.put({ buildId, runId, pipeline: 'shop', service: 'frontend', sha: SHA, kind: 'image', repository: `${h.imageRoot}/frontend`, tag: SHA.slice(0, 7), startedAt: new Date().toISOString() });
    await ledger.updateRun(runId, (run) => ((run.builds = { frontend: { buildId, status: 'QUEUED' } }), true));
    return { runId, buildId, image };
  }

  async function deliver(builds: CloudBuildNotification[]): Promise<void> {
    for (const build of builds) await h.runtime.bus().publish('cloud-builds', Buffer.from(JSON.stringify(build)), { buildId: build.id, status: build.status });
    await h.settle();
  }

  const cases: Array<{ status: BuildStatus; extra: Record<string, unknown>; detail?: RegExp }> = [
    { status: 'SUCCESS', extra: {} },
    { status: 'FAILURE', extra: { statusDetail: 'Build failed; check build logs for details', failureInfo: { type: 'USER_BUILD_STEP', detail: 'Build step failure: build step 0 "gcr.io/cloud-builders/docker" failed: step exited with non-zero status: 1' } }, detail: /FAILURE: Build step failure/ },
    { status: 'TIMEOUT', extra: { statusDetail: 'Build timed out' }, detail: /TIMEOUT: Build timed out/ },
  ];

  test.each(cases)('$status, shuffled and duplicated, gives exactly one build-finished', async ({ status, extra, detail }) => {
    const { runId, buildId, image } = await startedRun();
    const digest = status === 'SUCCESS' ? await pushImage(image) : undefined;
    const results = digest ? { results: { images: [{ name: image, digest, pushTiming: { startTime: '2026-11-26T09:01:30Z', endTime: '2026-11-26T09:01:35Z' } }], buildStepImages: ['sha256:' + 'c'.repeat(64)], buildStepOutputs: [''] } } : {};
    const terminal = buildJson(buildId, status, image, runId, { ...extra, ...results });
    await deliver(shuffle([buildJson(buildId, 'QUEUED', image, runId), buildJson(buildId, 'WORKING', image, runId), terminal, terminal, buildJson(buildId, 'QUEUED', image, runId)]));

    const finished = h.seen.of('build-finished', runId);
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ status, service: 'frontend', buildId, sha: SHA, logUrl: expect.stringContaining(buildId) });
    if (digest) expect(finished[0]!.image).toEqual({ service: 'frontend', repository: `${h.imageRoot}/frontend`, tag: SHA.slice(0, 7), digest });
    else expect(finished[0]!.image).toBeUndefined();
    if (detail) expect(finished[0]!.detail).toMatch(detail);
    // A stale QUEUED that arrives after the terminal state never rewrites it.
    const run = await h.runtime.ledger().getRun(runId);
    expect(run?.builds.frontend?.status).toBe(status);
    expect(run?.stages.build?.status).toBe(status === 'SUCCESS' ? 'succeeded' : 'failed');
  });

  test('builds baton did not start are ignored', async () => {
    const before = h.seen.of('build-finished').length;
    const foreign = buildJson(randomUUID(), 'SUCCESS', `${h.imageRoot}/other:1234567`, 'x', { substitutions: { REPO_NAME: 'other', COMMIT_SHA: SHA }, tags: ['nightly'] });
    await deliver([foreign, foreign]);
    expect(h.seen.of('build-finished')).toHaveLength(before);
  });

  test('a build whose record is not written yet is matched by its substitutions', async () => {
    const runId = `shop-${randomUUID().slice(0, 8)}`;
    const buildId = randomUUID();
    const image = `${h.imageRoot}/frontend:${SHA.slice(0, 7)}`;
    await h.runtime.ledger().createRun(newRun({ runId, before: SHA, after: SHA, services: ['frontend'] }), new Date(), {}, {});
    await deliver([buildJson(buildId, 'CANCELLED', image, runId, { statusDetail: 'Build was cancelled' })]);
    expect(h.seen.of('build-finished', runId)).toEqual([expect.objectContaining({ status: 'CANCELLED', service: 'frontend', buildId })]);
  });

  test('a digest the registry does not hold is retried, then reported as INTERNAL_ERROR', async () => {
    const { runId, buildId, image } = await startedRun();
    const missing = `sha256:${'e'.repeat(64)}`;
    const build = buildJson(buildId, 'SUCCESS', image, runId, { results: { images: [{ name: image, digest: missing }] } });
    const deps = { ledger: h.runtime.ledger(), log: h.runtime.log, registryFor: (host: string) => new OciRegistry(host), confirmAttempts: 3 };

    await expect(handleBuildNotification(build, { deliveryAttempt: 1 }, deps)).rejects.toThrow(/is not in the registry/);
    const outcome = await handleBuildNotification(build, { deliveryAttempt: 3 }, deps);
    expect(outcome.emit).toEqual([expect.objectContaining({ topic: 'build-finished', input: expect.objectContaining({ status: 'INTERNAL_ERROR', detail: expect.stringMatching(/registry does not confirm/) }) })]);
  });
});
