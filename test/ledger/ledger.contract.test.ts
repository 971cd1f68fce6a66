import type { DocStore } from '../../shared/ledger/docStore.js';
import { FirestoreDocStore } from '../../shared/ledger/firestoreDocStore.js';
import { RunLedger } from '../../shared/ledger/runLedger.js';
import type { NewRun } from '../../shared/ledger/runLedger.js';
import { SqliteDocStore } from '../../shared/ledger/sqliteDocStore.js';
import { tempDir, uniqueProject } from '../support/runtimes.js';
import { join } from 'node:path';

/** One contract, two stores: SQLite (embedded) and Firestore (deployed, here its emulator). */
const stores: Record<string, () => DocStore> = {
  SQLite: () => new SqliteDocStore(join(tempDir(), 'ledger.sqlite')),
  'Firestore emulator': () => new FirestoreDocStore({ projectId: uniqueProject() }),
};

const run = (runId: string, seq = 1): NewRun => ({
  runId,
  pipeline: 'shop',
  kind: 'app',
  seq,
  provider: 'github',
  deliveryId: `d-${runId}`,
  repository: 'acme/shop',
  ref: 'refs/heads/main',
  branch: 'main',
  before: 'a'.repeat(40),
  after: 'b'.repeat(40),
  pusher: { name: 'dev' },
  services: ['frontend'],
});

describe.each(Object.keys(stores))('%s ledger', (name) => {
  let store: DocStore;
  let ledger: RunLedger;
  beforeEach(() => {
    store = stores[name]!();
    ledger = new RunLedger(store);
  });
  afterEach(() => ledger.close());

  test('create is conditional: only the first create of a path succeeds', async () => {
    expect(await store.create('things/a', { n: 1 })).toBe(true);
    expect(await store.create('things/a', { n: 2 })).toBe(false);
    expect(await store.get('things/a')).toEqual({ n: 1 });
  });

  test('of N concurrent conditional creates exactly one wins', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.create('race/one', { winner: i })));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  test('of N concurrent decisions through the ledger exactly one wins', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => ledger.claim('decision:run-1', { by: `approver-${i}` })));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  test('concurrent read-modify-writes of one document lose no update', async () => {
    await Promise.all(Array.from({ length: 8 }, () => ledger.nextSeq('shop')));
    expect(await ledger.nextSeq('shop')).toBe(9);
  });

  test('a delivery id is accepted once, and again only after it is released', async () => {
    expect(await ledger.acceptDelivery('github', 'd1', 'r1')).toBe(true);
    expect(await ledger.acceptDelivery('github', 'd1', 'r1')).toBe(false);
    expect(await ledger.acceptDelivery('gitlab', 'd1', 'r1')).toBe(true);
    await ledger.releaseDelivery('github', 'd1');
    expect(await ledger.acceptDelivery('github', 'd1', 'r1')).toBe(true);
  });

  test('a run starts once per delivery, numbered in order, even when deliveries race', async () => {
    const start = (deliveryId: string) =>
      ledger.startRun({ provider: 'github', deliveryId }, (seq) => run(`r-${deliveryId}-${seq}`, seq), (_run, at) => ({ intake: { status: 'succeeded', startedAt: at.toISOString() } }));
    const same = await Promise.all(Array.from({ length: 6 }, () => start('same-delivery')));
    expect(same.filter(Boolean)).toHaveLength(1);
    const others = await Promise.all(['a', 'b', 'c'].map(start));
    expect(others.map((record) => record!.seq).sort()).toEqual([2, 3, 4]);
    const stored = await ledger.getRun(same.find(Boolean)!.runId);
    expect(stored).toMatchObject({ seq: 1, status: 'running', stages: { intake: { status: 'succeeded' } } });
    expect(await ledger.acceptDelivery('github', 'same-delivery', 'x')).toBe(false);
  });

  test('the deployed sequence only moves forward, even under concurrency', async () => {
    const outcomes = await Promise.all([3, 1, 5, 2, 4].map((seq) => ledger.advanceDeployed('shop', 'frontend', seq, `r${seq}`)));
    expect(await ledger.deployedSeq('shop', 'frontend')).toBe(5);
    expect(outcomes.find((_, index) => [3, 1, 5, 2, 4][index] === 5)?.advanced).toBe(true);
    expect((await ledger.advanceDeployed('shop', 'frontend', 4, 'r4')).advanced).toBe(false);
    expect(await ledger.deployedSeq('shop', 'cartservice')).toBe(0);
  });

  test('a stage that has ended never goes back, and a failure ends the run', async () => {
    await ledger.createRun(run('r-stages'));
    await ledger.recordStage('r-stages', 'mirror', { status: 'running' });
    await ledger.recordStage('r-stages', 'mirror', { status: 'succeeded', detail: 'mirrored' });
    await ledger.recordStage('r-stages', 'mirror', { status: 'running' });
    await ledger.recordStage('r-stages', 'build', { status: 'failed', detail: 'frontend failed' });
    const stored = await ledger.getRun('r-stages');
    expect(stored?.stages.mirror).toMatchObject({ status: 'succeeded', detail: 'mirrored' });
    expect(stored?.stages.mirror?.endedAt).toBeDefined();
    expect(stored?.status).toBe('failed');
  });

  test('runs are listed newest first', async () => {
    await ledger.createRun(run('r-old', 1), new Date('2026-01-01T00:00:00Z'));
    await ledger.createRun(run('r-new', 2), new Date('2026-01-02T00:00:00Z'));
    expect((await ledger.listRuns()).map((r) => r.runId)).toEqual(['r-new', 'r-old']);
  });
});
