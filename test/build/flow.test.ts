import { jest } from '@jest/globals';
import { OciRegistry } from '../../shared/oci/registryClient.js';
import { parseReference } from '../../shared/oci/reference.js';
import { RUNTIME_KINDS, eventually } from '../support/runtimes.js';
import { refOf } from '../mirror/gitFixtures.js';
import { REGISTRY, seedServices, startHarness } from './harness.js';
import type { Harness } from './harness.js';

jest.setTimeout(120_000);

/**
 * push-received → repoMirror → source-mirrored → buildTrigger → buildah → cloud-builds →
 * buildStatus → build-finished, with real git repositories, real buildah builds and the real
 * local registry, in both runtimes. The digest in build-finished must be the one the registry holds.
 */
describe.each(RUNTIME_KINDS)('mirror and build on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ kind, ...(kind === 'in-process' ? { duplicateDeliveries: 1 } : {}) });
  });
  afterAll(async () => {
    await h?.close();
  });

  test('a push that changes one service builds exactly that service, with the digest the registry holds', async () => {
    const before = seedServices(h);
    const after = h.work.commit({ 'src/frontend/index.html': '<h1>shop v2</h1>\n' });
    h.work.push('main');

    const runId = await h.push({ before, after });
    const finished = await eventually(() => h.seen.of('build-finished', runId)[0], 90_000, 'build-finished');
    await h.settle();

    expect(refOf(h.mirror, 'refs/heads/main')).toBe(after);
    const mirrored = h.seen.of('source-mirrored', runId);
    expect(mirrored).toHaveLength(1);
    expect(mirrored[0]).toMatchObject({ sha: after, services: ['frontend'] });

    expect(finished).toMatchObject({ status: 'SUCCESS', service: 'frontend', sha: after });
    const image = finished.image!;
    expect(image.repository).toBe(`${h.imageRoot}/frontend`);
    expect(image.tag).toBe(after.slice(0, 7));
    const { repository } = parseReference(`${image.repository}:${image.tag}`);
    const held = await new OciRegistry(REGISTRY).manifestDigest(repository, image.tag);
    expect(image.digest).toBe(held);

    // Exactly one build, one build-started and one build-finished, even with every message delivered twice.
    expect(h.seen.of('build-started', runId)).toHaveLength(1);
    expect(h.seen.of('build-finished', runId)).toHaveLength(1);
    const run = await h.runtime.ledger().getRun(runId);
    expect(run?.services).toEqual(['frontend']);
    expect(run?.stages.mirror?.status).toBe('succeeded');
    expect(run?.stages.build?.status).toBe('succeeded');
    expect(run?.builds.frontend).toMatchObject({ status: 'SUCCESS', image: { digest: held } });
    const record = await h.runtime.ledger().builds.get(finished.buildId);
    expect(record).toMatchObject({ runId, service: 'frontend', sha: after });
  });

  test('a broken Dockerfile is reported as FAILURE with a detail', async () => {
    const before = refOf(h.source, 'refs/heads/main')!;
    const after = h.work.commit({ 'src/cart/Dockerfile': 'FROM scratch\nCOPY missing-file.txt /x\n' });
    h.work.push('main');

    const runId = await h.push({ before, after, services: ['cart'], servicesResolved: true, unresolvedReason: undefined });
    const finished = await eventually(() => h.seen.of('build-finished', runId)[0], 90_000, 'build-finished');
    await h.settle();

    expect(finished).toMatchObject({ status: 'FAILURE', service: 'cart' });
    expect(finished.image).toBeUndefined();
    expect(finished.detail).toMatch(/buildah build/);
    const run = await h.runtime.ledger().getRun(runId);
    expect(run?.stages.build?.status).toBe('failed');
    expect(run?.status).toBe('failed');
  });
});
