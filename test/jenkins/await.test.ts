import { MANIFEST } from '../../functions/stages.js';
import { ChainHarness, events, settle } from './awaitHarness.js';
import type { BatonExit, BatonProcess } from './awaitHarness.js';

// Each case starts `baton` processes; on a loaded machine one can take several seconds.
const TIMEOUT = 120_000;

/**
 * `baton await` as Jenkins runs it: a child process against the Pub/Sub and Firestore
 * emulators, judged by its exit code and output, while the test plays the chain's stages.
 */
// Created at load, not in beforeAll: concurrent tests may start before the hooks run.
const chain = new ChainHarness();
let counter = 0;
const SERVICES = ['frontend'];
const newRunId = () => `shop-${++counter}-${Date.now().toString(36)}`;

afterAll(async () => {
  await chain.close();
});

async function expectDeleted(subscription: string): Promise<void> {
  expect(subscription).toMatch(/^baton-await-/);
  await settle(200);
  expect(await chain.awaitSubscriptions()).not.toContain(subscription);
}

/** Whether the process is still waiting after the chain had time to deliver what was published. */
async function stillWaiting(process: BatonProcess): Promise<boolean> {
  let exited = false;
  void process.done.then(() => (exited = true));
  await settle(2_000);
  return !exited;
}

describe('baton await: the run ledger', () => {
  test('a stage that fails without publishing (recorded in the ledger) exits 1 with its detail', async () => {
    const runId = newRunId();
    await chain.createRun(runId, SERVICES);
    const waiting = await chain.startAwait(runId, 'mirror');
    await chain.ledger.recordStage(runId, 'mirror', { status: 'failed', detail: 'failed to push to the mirror: permission denied' }, MANIFEST.plan);
    const exit = await waiting.done;
    expect(exit.code).toBe(1);
    expect(exit.stdout).toMatch(/^FAILED +mirror.*failed to push to the mirror: permission denied/m);
    await expectDeleted(await waiting.ready);
  }, TIMEOUT);

  test('a stage that ended before the wait began is read from the ledger', async () => {
    const runId = newRunId();
    await chain.createRun(runId, SERVICES);
    await chain.ledger.recordStage(runId, 'intake', { status: 'succeeded', detail: 'github push aaaaaaa to main' }, MANIFEST.plan);
    await chain.ledger.updateRun(runId, (run) => ((run.builds = { frontend: { buildId: 'b1', status: 'SUCCESS', logUrl: 'https://console.test/builds/b1' } }), true));

    const intake = await chain.baton(['await', runId, '--stage', 'intake', '--json', '--timeout', '120']).done;
    expect(intake.code).toBe(0);
    const result = JSON.parse(intake.stdout) as { outcome: string; source: string; exitCode: number; record: { detail: string } };
    expect(result).toMatchObject({ outcome: 'succeeded', source: 'ledger', exitCode: 0, record: { detail: 'github push aaaaaaa to main' } });

    const build = await chain.baton(['await', runId, '--stage', 'build', '--service', 'frontend', '--timeout', '120']).done;
    expect(build.code).toBe(0);
    expect(build.stdout).toMatch(/frontend: SUCCESS \(build b1\)\n {2}logs: https:\/\/console\.test\/builds\/b1/);
    await chain.expectNoAwaitSubscriptions();
  }, TIMEOUT);

  test('a run that already ended earlier fails a later stage at once instead of timing out', async () => {
    const runId = newRunId();
    await chain.createRun(runId, SERVICES);
    await chain.ledger.recordStage(runId, 'approval', { status: 'rejected', detail: 'rejected by Grace' }, MANIFEST.plan);
    const started = Date.now();
    const exit = await chain.baton(['await', runId, '--stage', 'chart', '--timeout', '120']).done;
    expect(exit.code).toBe(1);
    expect(exit.stdout).toMatch(/ended rejected at approval: rejected by Grace before chart/);
    expect(Date.now() - started).toBeLessThan(60_000);
  }, TIMEOUT);
});

describe('baton await: waiting', () => {
  test('times out with exit 2 and deletes its subscription', async () => {
    const runId = newRunId();
    await chain.createRun(runId, SERVICES);
    const waiting = chain.baton(['await', runId, '--stage', 'deploy', '--timeout', '2', '--poll', '0.5']);
    const subscription = await waiting.ready;
    const exit = await waiting.done;
    expect(exit.code).toBe(2);
    expect(exit.stdout).toMatch(/^TIMED OUT +deploy of run .*: timed out after 2 s/m);
    await expectDeleted(subscription);
  }, TIMEOUT);

  test("ignores other runs' messages, mislabelled messages and garbage", async () => {
    const runId = newRunId();
    await chain.createRun(runId, SERVICES);
    const waiting = await chain.startAwait(runId, 'build', ['--service', 'frontend', '--json']);
    await chain.publish('build-finished', events.buildFinished(`${runId}-other`, 'frontend', 'FAILURE'));
    // The attribute names this run but the data another: the data is what counts.
    await chain.publishRaw('build-finished', { ...events.buildFinished(`${runId}-x`, 'frontend', 'FAILURE'), version: 1 }, runId);
    await chain.bus.publish('build-finished', Buffer.from('not json'), { type: 'build-finished', run_id: runId });
    // This run, but another service's build.
    await chain.publish('build-finished', events.buildFinished(runId, 'cart', 'FAILURE'));
    expect(await stillWaiting(waiting)).toBe(true);

    await chain.publish('build-finished', events.buildFinished(runId, 'frontend', 'SUCCESS'));
    const exit = await waiting.done;
    expect(exit.code).toBe(0);
    const result = JSON.parse(exit.stdout) as { events: Array<{ runId: string; service: string; status: string }> };
    expect(result.events).toEqual([expect.objectContaining({ runId, service: 'frontend', status: 'SUCCESS' })]);
    expect(exit.stderr).toMatch(/ignored message .* data is not JSON/);
    await expectDeleted(await waiting.ready);
  }, TIMEOUT);

  test('without --service, the build stage waits for every service of the run', async () => {
    const runId = newRunId();
    await chain.createRun(runId, ['frontend', 'cart']);
    const waiting = await chain.startAwait(runId, 'build');
    await chain.publish('build-finished', events.buildFinished(runId, 'cart', 'FAILURE'));
    // Like promotion, the ledger marks the stage failed at the first failure; the wait goes on.
    await chain.ledger.recordStage(runId, 'build', { status: 'failed', detail: 'cart FAILURE' }, MANIFEST.plan);
    await chain.ledger.updateRun(runId, (run) => ((run.builds = { cart: { buildId: 'build-cart', status: 'FAILURE' } }), true));
    expect(await stillWaiting(waiting)).toBe(true);

    await chain.publish('build-finished', events.buildFinished(runId, 'frontend', 'SUCCESS'));
    const exit = await waiting.done;
    expect(exit.code).toBe(1);
    expect(exit.stdout).toMatch(/1 of 2 builds failed: cart FAILURE/);
    expect(exit.stdout).toMatch(/frontend: SUCCESS/);
  }, TIMEOUT);

  test('SIGTERM (a Jenkins abort) still deletes the subscription', async () => {
    const runId = newRunId();
    await chain.createRun(runId, SERVICES);
    const waiting = await chain.startAwait(runId, 'approve');
    const subscription = await waiting.ready;
    expect(await chain.awaitSubscriptions()).toContain(subscription);
    waiting.kill('SIGTERM');
    const exit: BatonExit = await waiting.done;
    expect(exit.code).toBe(143);
    expect(exit.stdout).toMatch(/^INTERRUPTED +approve/m);
    await expectDeleted(subscription);
  }, TIMEOUT);

  test.each([
    [['--stage', 'mirror', '--service', 'frontend'], /--service applies to the build stage only/],
    [['--stage', 'bogus'], /unknown stage "bogus"/],
    [['--stage', 'deploy', '--timeout', 'soon'], /--timeout must be a positive number/],
    [[], /required option '--stage <stage>'/],
  ])('usage error %j exits 3', async (args, message) => {
    const exit = await chain.baton(['await', newRunId(), ...args]).done;
    expect(exit.code).toBe(3);
    expect(exit.stderr).toMatch(message);
  });

  test('a service the run does not build exits 3, not 1', async () => {
    const runId = newRunId();
    await chain.createRun(runId, SERVICES);
    await chain.ledger.recordStage(runId, 'mirror', { status: 'succeeded' }, MANIFEST.plan);
    const exit = await chain.baton(['await', runId, '--stage', 'build', '--service', 'payments', '--timeout', '120']).done;
    expect(exit.code).toBe(3);
    expect(exit.stderr).toMatch(/does not build service payments \(it builds frontend\)/);
    await chain.expectNoAwaitSubscriptions();
  }, TIMEOUT);
});
