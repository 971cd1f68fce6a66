import { makeEvent } from '../../shared/contracts/index.js';
import type { RunRecord } from '../../shared/ledger/runLedger.js';
import { StageWatch, UsageError } from '../../cli/await/stageWatch.js';
import { awaitSubscriptionName, runFilter } from '../../cli/await/subscription.js';
import { events } from './awaitHarness.js';

/** The rules that decide when a stage has ended, without I/O: one row per rule. */
const RUN = 'shop-1-aaaaaaa';
function run(patch: Partial<RunRecord> = {}): RunRecord {
  return {
    runId: RUN, pipeline: 'shop', kind: 'app', order: `2026-01-01T00:00:00.000Z~${RUN}`, provider: 'github', deliveryId: 'd', repository: 'acme/shop',
    ref: 'refs/heads/main', branch: 'main', before: 'b'.repeat(40), after: 'a'.repeat(40), pusher: { name: 'Ada' },
    services: ['frontend', 'cart'], createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', status: 'running',
    stages: {}, builds: {}, outbox: {}, history: [], ...patch,
  };
}
const at = '2026-01-01T00:00:00Z';
const stage = (status: string, detail?: string) => ({ status, startedAt: at, endedAt: at, ...(detail ? { detail } : {}) }) as RunRecord['stages']['intake'];

describe('StageWatch: the ledger', () => {
  test.each([
    ['a succeeded stage passes', 'mirror', run({ stages: { mirror: stage('succeeded') } }), 'succeeded'],
    ['a failed stage fails', 'mirror', run({ stages: { mirror: stage('failed') } }), 'failed'],
    ['a skipped deploy (no Argo CD) passes', 'deploy', run({ stages: { deploy: stage('skipped') } }), 'succeeded'],
    ['a skipped approval (a build failed) fails', 'approve', run({ status: 'failed', stages: { build: stage('failed'), approval: stage('skipped') } }), 'failed'],
    ['a skipped approval (no service affected) passes', 'approve', run({ services: [], stages: { approval: stage('skipped', 'no service is affected by the push') } }), 'succeeded'],
    ['a superseded approval fails', 'approve', run({ stages: { approval: stage('superseded') } }), 'failed'],
    ['a canceled approval fails', 'approve', run({ status: 'canceled', stages: { approval: stage('canceled') } }), 'failed'],
    ['a later stage of a canceled run fails', 'chart', run({ status: 'canceled', stages: { approval: stage('canceled'), chart: stage('skipped') } }), 'failed'],
    ['a waiting approval keeps waiting', 'approve', run({ stages: { approval: { status: 'waiting', startedAt: at } } }), undefined],
    ['a run that ended earlier fails a later stage', 'chart', run({ status: 'rejected', stages: { approval: stage('rejected') } }), 'failed'],
    ['an unknown run keeps waiting', 'intake', undefined, undefined],
  ] as const)('%s', (_name, awaited, record, outcome) => {
    const watch = new StageWatch(awaited);
    expect(watch.onLedger(record as RunRecord | undefined)?.outcome).toBe(outcome);
  });

  test("one service's wait ignores a sibling's failure and the build stage failing because of it", () => {
    const watch = new StageWatch('build', 'frontend');
    const ledger = run({ status: 'failed', stages: { build: stage('failed', 'cart FAILURE') }, builds: { cart: { buildId: 'b', status: 'FAILURE' } } });
    expect(watch.onLedger(ledger)).toBeUndefined();
    expect(watch.onEvent(makeEvent('build-finished', events.buildFinished(RUN, 'frontend', 'SUCCESS')))?.outcome).toBe('succeeded');
  });

  test('a build stage that failed before any build started ends every service wait', () => {
    const watch = new StageWatch('build', 'frontend');
    expect(watch.onLedger(run({ stages: { build: stage('failed', 'failed to start builds') } }))).toMatchObject({ outcome: 'failed', summary: 'build failed: failed to start builds' });
  });

  test('a service the settled run does not build is a usage error', () => {
    const watch = new StageWatch('build', 'payments');
    expect(() => watch.onLedger(run({ stages: { mirror: stage('succeeded') } }))).toThrow(UsageError);
  });

  test('the whole build stage needs every service, and fails when any failed', () => {
    const watch = new StageWatch('build');
    watch.onLedger(run());
    expect(watch.onEvent(makeEvent('build-finished', events.buildFinished(RUN, 'frontend', 'SUCCESS')))).toBeUndefined();
    expect(watch.onEvent(makeEvent('build-finished', events.buildFinished(RUN, 'cart', 'FAILURE')))).toMatchObject({ outcome: 'failed', summary: '1 of 2 builds failed: cart FAILURE' });
  });

  test('a redelivered message is one event', () => {
    const watch = new StageWatch('build');
    const event = makeEvent('build-finished', events.buildFinished(RUN, 'frontend', 'SUCCESS'));
    watch.onEvent(event);
    watch.onEvent(structuredClone(event));
    expect(watch.events).toHaveLength(1);
  });
});

describe('the wait subscription', () => {
  test('names follow Pub/Sub rules and are unique per wait', () => {
    const a = awaitSubscriptionName('shop/1 "x"', 'build', 'frontend');
    expect(a).toMatch(/^baton-await-shop-1--x--build-frontend-[0-9a-f]{8}$/);
    expect(a).not.toBe(awaitSubscriptionName('shop/1 "x"', 'build', 'frontend'));
    expect(awaitSubscriptionName('r'.repeat(400), 'approve').length).toBeLessThanOrEqual(255);
  });

  test('the run filter is only set for run ids that need no escaping', () => {
    expect(runFilter(RUN)).toBe('attributes.run_id = "shop-1-aaaaaaa"');
    expect(runFilter('a"b')).toBeUndefined();
  });
});
