import { jest } from '@jest/globals';
import { ZERO_SHA } from '../../shared/contracts/index.js';
import { RUNTIME_KINDS, eventually, logLines } from '../support/runtimes.js';
import { seedServices, startHarness } from '../build/harness.js';
import type { Harness } from '../build/harness.js';
import { refOf } from './gitFixtures.js';

jest.setTimeout(60_000);

/**
 * The repoMirror stage on both runtimes: services worked out from git when intake could not
 * (forced push, new branch), a push that affects nothing, and a missing config key.
 */
describe.each(RUNTIME_KINDS)('repoMirror on %s', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ kind, targets: ['repoMirror'], ...(kind === 'in-process' ? { duplicateDeliveries: 1 } : {}) });
  });
  afterAll(async () => {
    await h?.close();
  });

  test('a forced push is mirrored exactly and its services come from git diff before..after', async () => {
    const start = seedServices(h);
    const dropped = h.work.commit({ 'src/frontend/index.html': 'will be rewritten\n' });
    h.work.push('main');
    const dropMirrored = await h.push({ before: start, after: dropped });
    await eventually(() => h.seen.of('source-mirrored', dropMirrored)[0], 30_000, 'first source-mirrored');

    h.work.run('reset', '--quiet', '--hard', start);
    const rewritten = h.work.commit({ 'src/cart/cart.txt': 'cart v2\n' });
    h.work.push('main', true);
    const runId = await h.push({ before: dropped, after: rewritten, forced: true, unresolvedReason: 'forced' });

    const event = await eventually(() => h.seen.of('source-mirrored', runId)[0], 30_000, 'source-mirrored');
    await h.settle();
    expect(refOf(h.mirror, 'refs/heads/main')).toBe(rewritten);
    // before..after spans the dropped frontend edit and the new cart edit: both differ.
    expect(event).toMatchObject({ sha: rewritten, before: dropped, services: ['frontend', 'cart'], mirrorUrl: h.mirror });
    expect(h.seen.of('source-mirrored', runId)).toHaveLength(1);
    const run = await h.runtime.ledger().getRun(runId);
    expect(run?.services).toEqual(['frontend', 'cart']);
    expect(run?.stages.mirror).toMatchObject({ status: 'succeeded', detail: expect.stringMatching(/^rewrote refs\/heads\/main/) });
  });

  test('a new branch is diffed against its merge-base with the default branch', async () => {
    const main = refOf(h.source, 'refs/heads/main')!;
    h.work.run('checkout', '--quiet', '-b', 'feature/cart', main);
    const after = h.work.commit({ 'src/cart/cart.txt': 'cart on a branch\n' });
    h.work.push('feature/cart');
    h.work.run('checkout', '--quiet', 'main');
    const runId = await h.push({ before: ZERO_SHA, after, ref: 'refs/heads/feature/cart', branch: 'feature/cart', created: true, unresolvedReason: 'created' });

    const event = await eventually(() => h.seen.of('source-mirrored', runId)[0], 30_000, 'source-mirrored');
    expect(event.services).toEqual(['cart']);
    expect(refOf(h.mirror, 'refs/heads/feature/cart')).toBe(after);
  });

  test('a push that affects no service ends the run after the mirror, publishing nothing', async () => {
    const before = refOf(h.source, 'refs/heads/main')!;
    const after = h.work.commit({ 'README.md': 'docs only\n' });
    h.work.push('main');
    const runId = await h.push({ before, after });

    const run = await eventually(async () => {
      const current = await h.runtime.ledger().getRun(runId);
      return current?.stages.deploy ? current : undefined;
    }, 30_000, 'the run to end');
    await h.settle();
    expect(refOf(h.mirror, 'refs/heads/main')).toBe(after);
    expect(h.seen.of('source-mirrored', runId)).toHaveLength(0);
    expect(run.stages.mirror?.status).toBe('succeeded');
    expect(run.stages.build).toMatchObject({ status: 'skipped', detail: 'no service is affected by the push' });
    expect(run.status).toBe('succeeded');
    expect(run.services).toEqual([]);
  });
});

describe('repoMirror without a mirror URL', () => {
  test('fails the stage once, naming the file and the field, and does not retry', async () => {
    const h = await startHarness({ kind: 'in-process', targets: ['repoMirror'], noMirrorUrl: true });
    try {
      const after = seedServices(h);
      const runId = await h.push({ before: ZERO_SHA, after, services: ['frontend'], servicesResolved: true, unresolvedReason: undefined });
      await h.settle();
      const run = await h.runtime.ledger().getRun(runId);
      expect(run?.stages.mirror).toMatchObject({ status: 'failed', detail: 'BATON_CONFIG test-config.yaml: pipelines[0].mirror.url: missing; repoMirror needs it' });
      expect(run?.status).toBe('failed');
      expect(h.seen.of('source-mirrored', runId)).toHaveLength(0);
    } finally {
      await h.close();
    }
  });
});

describe('repoMirror and a ref git refuses', () => {
  test('is permanent: the stage fails at the first delivery, never fetched again', async () => {
    const h = await startHarness({ kind: 'in-process', targets: ['repoMirror'] });
    try {
      const after = seedServices(h);
      const runId = await h.push({ before: ZERO_SHA, after, ref: 'refs/heads/bad..name', branch: 'bad..name', services: ['frontend'], servicesResolved: true, unresolvedReason: undefined });
      await h.settle();
      const run = await h.runtime.ledger().getRun(runId);
      expect(run?.stages.mirror).toMatchObject({ status: 'failed', detail: expect.stringMatching(/git refuses it as a ref name/) });
      expect(run?.status).toBe('failed');
      expect(logLines.filter((line) => line.includes(runId) && line.includes('will be redelivered'))).toHaveLength(0);
    } finally {
      await h.close();
    }
  });
});
