import { join } from 'node:path';
import type { Doc, DocStore } from '../../shared/ledger/docStore.js';
import { docId } from '../../shared/ledger/docStore.js';
import { LEDGER_LIFETIME_DAYS } from '../../shared/ledger/expiry.js';
import { FirestoreDocStore } from '../../shared/ledger/firestoreDocStore.js';
import { LEDGER_INDEXES, RunLedger, addToOutbox, markHandled } from '../../shared/ledger/runLedger.js';
import type { NewRun, StagePlan } from '../../shared/ledger/runLedger.js';
import { SqliteDocStore } from '../../shared/ledger/sqliteDocStore.js';
import { tempDir, uniqueProject } from '../support/runtimes.js';

/** One contract, two stores: SQLite (embedded) and Firestore (deployed, here its emulator). */
const stores: Record<string, () => DocStore> = {
  SQLite: () => new SqliteDocStore(join(tempDir(), 'ledger.sqlite'), LEDGER_INDEXES),
  'Firestore emulator': () => new FirestoreDocStore({ projectId: uniqueProject() }),
};

const PLAN: StagePlan = () => ['intake', 'mirror', 'build', 'approval', 'chart', 'deploy'];

const run = (runId: string, at = '2026-01-01T00:00:00.000Z', pipeline = 'shop'): NewRun => ({
  runId,
  pipeline,
  kind: 'app',
  order: `${at}~${runId}`,
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

const create = (ledger: RunLedger, runId: string, at = '2026-01-01T00:00:00.000Z', pipeline = 'shop') => ledger.createRun(run(runId, at, pipeline), new Date(at), {}, {});

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

  test('of N concurrent claims exactly one wins, and a released claim can be taken again', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => ledger.claim('build:run-1:frontend', { by: `delivery-${i}` })));
    expect(results.filter(Boolean)).toHaveLength(1);
    await ledger.extendClaim('build:run-1:frontend', { buildId: 'b-1' });
    expect(await ledger.getClaim('build:run-1:frontend')).toMatchObject({ buildId: 'b-1' });
    await ledger.releaseClaim('build:run-1:frontend');
    expect(await ledger.claim('build:run-1:frontend')).toBe(true);
    // A claim says when it may go (LEDGER_EXPIRY): LEDGER_LIFETIME_DAYS after it was taken.
    const inDays = (Date.parse(String((await store.get(`claims/${docId('build:run-1:frontend')}`))?.expireAt)) - Date.now()) / 86_400_000;
    expect(inDays).toBeGreaterThan(LEDGER_LIFETIME_DAYS - 1);
    expect(inDays).toBeLessThanOrEqual(LEDGER_LIFETIME_DAYS);
  });

  test('a run is created once per run id, even when redeliveries race; the others get the existing run', async () => {
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => create(ledger, 'r-same')));
    expect(outcomes.filter((outcome) => outcome.created)).toHaveLength(1);
    expect(outcomes.every((outcome) => outcome.run.runId === 'r-same' && outcome.run.status === 'running')).toBe(true);
  });

  test('concurrent read-modify-writes of one run lose no update', async () => {
    await create(ledger, 'r-rmw');
    await Promise.all(Array.from({ length: 8 }, (_, i) => ledger.updateRun('r-rmw', (current) => (current.history.push({ at: 'x', by: 'test', note: `n${i}` }), true))));
    expect((await ledger.getRun('r-rmw'))?.history).toHaveLength(8);
  });

  test('the deployed run of a service only moves forward in order, even under concurrency', async () => {
    const order = (n: number) => `2026-01-0${n}T00:00:00.000Z~r${n}`;
    const outcomes = await Promise.all([3, 1, 5, 2, 4].map((n) => ledger.advanceDeployed('shop', 'frontend', order(n), `r${n}`)));
    expect(await ledger.deployed('shop', 'frontend')).toEqual({ order: order(5), runId: 'r5' });
    expect(outcomes[2]?.advanced).toBe(true);
    expect((await ledger.advanceDeployed('shop', 'frontend', order(4), 'r4')).advanced).toBe(false);
    expect(await ledger.deployed('shop', 'cartservice')).toBeUndefined();
  });

  test('a stage that has ended never goes back; a failure ends the run and skips what it never reached', async () => {
    await create(ledger, 'r-stages');
    await ledger.recordStage('r-stages', 'mirror', { status: 'running' }, PLAN);
    await ledger.recordStage('r-stages', 'mirror', { status: 'succeeded', detail: 'mirrored' }, PLAN);
    await ledger.recordStage('r-stages', 'mirror', { status: 'running' }, PLAN);
    await ledger.recordStage('r-stages', 'build', { status: 'failed', detail: 'frontend failed' }, PLAN);
    const stored = await ledger.getRun('r-stages');
    expect(stored?.stages.mirror).toMatchObject({ status: 'succeeded', detail: 'mirrored' });
    expect(stored?.stages.mirror?.endedAt).toBeDefined();
    expect(stored).toMatchObject({ status: 'failed', reason: 'build: frontend failed' });
    expect(stored?.stages.deploy).toMatchObject({ status: 'skipped', detail: 'not run: build: frontend failed' });
  });

  test('the last stage of the plan ending well ends the run as succeeded', async () => {
    await create(ledger, 'r-ok');
    for (const stage of PLAN({ kind: 'app', pipeline: 'shop' })) await ledger.recordStage('r-ok', stage, { status: stage === 'deploy' ? 'skipped' : 'succeeded' }, PLAN);
    expect((await ledger.getRun('r-ok'))?.status).toBe('succeeded');
  });

  test('the outbox holds one event per key, and knows who handled it', async () => {
    await create(ledger, 'r-outbox');
    const entry = { key: 'source-mirrored', topic: 'source-mirrored', event: { runId: 'r-outbox' } };
    const writes = await Promise.all(Array.from({ length: 4 }, () => ledger.updateRun('r-outbox', (current) => addToOutbox(current, [entry], 'now').length > 0)));
    expect(writes.filter((write) => write.changed)).toHaveLength(1);
    expect((await ledger.updateRun('r-outbox', (current) => markHandled(current, 'source-mirrored', 'buildTrigger', 'later'))).changed).toBe(true);
    expect((await ledger.updateRun('r-outbox', (current) => markHandled(current, 'source-mirrored', 'buildTrigger', 'again'))).changed).toBe(false);
    expect((await ledger.getRun('r-outbox'))?.outbox['source-mirrored']).toMatchObject({ topic: 'source-mirrored', handled: { buildTrigger: 'later' } });
  });

  test("gitStatus's reports: a claim is taken once and can be given back, and records update atomically", async () => {
    const reports = ledger.gitReports;
    const claims = await Promise.all(Array.from({ length: 6 }, () => reports.claim('git-status:r-1:baton/build:success')));
    expect(claims.filter(Boolean)).toHaveLength(1);
    await reports.release('git-status:r-1:baton/build:success');
    expect(await reports.claim('git-status:r-1:baton/build:success')).toBe(true);
    const key = 'git-report:status:r-1:baton/build';
    await Promise.all(Array.from({ length: 6 }, () => reports.update<{ rank: number; sends: number }>(key, (current) => ({ rank: 1, sends: (current?.sends ?? 0) + 1 }))));
    expect((await reports.update<{ rank: number; sends: number }>(key, () => undefined)).value).toEqual({ rank: 1, sends: 6 });
    expect(await reports.update(key, () => undefined)).toMatchObject({ changed: false });
    expect((await reports.update('git-report:status:r-1:baton/none', () => undefined)).value).toBeUndefined();
    // Claims and records alike say when they may go: LEDGER_LIFETIME_DAYS after their last write.
    const inDays = (doc: Doc | undefined) => (Date.parse(String(doc?.expireAt)) - Date.now()) / 86_400_000;
    for (const stored of [await store.get(`git-reports/${docId('git-status:r-1:baton/build:success')}`), await store.get(`git-reports/${docId(key)}`)]) {
      expect(inDays(stored)).toBeGreaterThan(LEDGER_LIFETIME_DAYS - 1);
      expect(inDays(stored)).toBeLessThanOrEqual(LEDGER_LIFETIME_DAYS);
    }
  });

  test('a run is found by its webhook delivery, and an ended run by its unannounced end', async () => {
    await create(ledger, 'r-delivery');
    expect(await ledger.hasDelivery('d-r-delivery')).toBe(true);
    expect(await ledger.hasDelivery('d-nobody')).toBe(false);
    await create(ledger, 'r-ends');
    await ledger.recordStage('r-ends', 'mirror', { status: 'failed', detail: 'gone' }, PLAN);
    expect((await ledger.listRunsAwaitingFinish(10)).map((r) => r.runId)).toEqual(['r-ends']);
    expect((await ledger.getRun('r-ends'))?.outbox['run-finished']?.event).toMatchObject({ type: 'run-finished', runId: 'r-ends', status: 'failed', reason: 'mirror: gone' });
    await ledger.markPublished('r-ends', ['run-finished'], new Date());
    expect(await ledger.listRunsAwaitingFinish(10)).toEqual([]);
  });

  test('runs are listed newest first, limited, and by pipeline, in the store', async () => {
    await create(ledger, 'r-old', '2026-01-01T00:00:00.000Z');
    await create(ledger, 'r-mid', '2026-01-02T00:00:00.000Z', 'infra');
    await create(ledger, 'r-new', '2026-01-03T00:00:00.000Z');
    expect((await ledger.listRuns({ limit: 10 })).map((r) => r.runId)).toEqual(['r-new', 'r-mid', 'r-old']);
    expect((await ledger.listRuns({ limit: 2 })).map((r) => r.runId)).toEqual(['r-new', 'r-mid']);
    expect((await ledger.listRuns({ limit: 10, pipeline: 'shop' })).map((r) => r.runId)).toEqual(['r-new', 'r-old']);
    await ledger.recordStage('r-old', 'mirror', { status: 'failed' }, PLAN);
    expect((await ledger.listRunsWithStatus('running', 10)).map((r) => r.runId).sort()).toEqual(['r-mid', 'r-new']);
  });
});

test('SQLite answers the ledger’s queries from its indexes, not by reading every run', () => {
  const store = new SqliteDocStore(':memory:', LEDGER_INDEXES);
  const newest = store.queryPlan('runs', { orderBy: { field: 'createdAt', direction: 'desc' }, limit: 20 });
  const byPipeline = store.queryPlan('runs', { where: { pipeline: 'shop' }, orderBy: { field: 'createdAt', direction: 'desc' }, limit: 20 });
  expect(newest).toMatch(/USING INDEX docs_runs_createdAt/);
  expect(newest).not.toMatch(/TEMP B-TREE/);
  expect(byPipeline).toMatch(/USING INDEX docs_runs_pipeline_createdAt/);
  expect(byPipeline).not.toMatch(/TEMP B-TREE/);
  expect(store.queryPlan('runs', { where: { finishPending: true }, limit: 20 })).toMatch(/USING INDEX docs_runs_finishPending/);
  expect(store.queryPlan('runs', { where: { deliveryId: 'd-1' }, limit: 1 })).toMatch(/USING INDEX docs_runs_deliveryId/);
});
