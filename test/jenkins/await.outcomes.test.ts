import { ChainHarness, events, image, settle } from './awaitHarness.js';

// Each case starts `baton` processes; on a loaded machine one can take several seconds.
const TIMEOUT = 120_000;

/**
 * `baton await` as Jenkins runs it, one row per stage outcome: a child process against the
 * Pub/Sub and Firestore emulators, judged by its exit code and output, while the test publishes
 * the stage's real contract message. The rows run concurrently, in their own project.
 */
// Created at load, not in beforeAll: concurrent tests may start before the hooks run.
const chain = new ChainHarness();
let counter = 0;
const newRunId = () => `shop-${++counter}-${Date.now().toString(36)}`;

afterAll(async () => {
  await chain.close();
});

async function expectDeleted(subscription: string): Promise<void> {
  expect(subscription).toMatch(/^baton-await-/);
  await settle(200);
  expect(await chain.awaitSubscriptions()).not.toContain(subscription);
}

type Row = {
  name: string;
  stage: string;
  extra?: string[];
  publish: (runId: string) => Promise<unknown>;
  code: number;
  output: RegExp;
};

const SERVICES = ['frontend'];
const rows: Row[] = [
  { name: 'intake: push-received', stage: 'intake', publish: (id) => chain.publish('push-received', events.pushReceived(id, SERVICES)), code: 0, output: /^OK +intake.*\n.*commit a{40} on main \(acme\/shop\), pushed by Ada/m },
  { name: 'mirror: source-mirrored', stage: 'mirror', publish: (id) => chain.publish('source-mirrored', events.sourceMirrored(id, SERVICES)), code: 0, output: /mirrored a{40} to https:\/\/mirror\.test/ },
  {
    name: 'build: the service succeeded',
    stage: 'build',
    extra: ['--service', 'frontend'],
    publish: (id) => chain.publish('build-finished', events.buildFinished(id, 'frontend', 'SUCCESS')),
    code: 0,
    output: new RegExp(`image: registry\\.test/shop/frontend:aaaaaaa@${image('frontend').digest}[\\s\\S]*logs: https://console\\.test/builds/build-frontend`),
  },
  {
    name: 'build: the service failed',
    stage: 'build',
    extra: ['--service', 'frontend'],
    publish: (id) => chain.publish('build-finished', events.buildFinished(id, 'frontend', 'FAILURE')),
    code: 1,
    output: /^FAILED +build \(frontend\)[\s\S]*detail: step 2 exited 1[\s\S]*logs: https:\/\/console\.test/m,
  },
  { name: 'approve: approved', stage: 'approve', publish: (id) => chain.publish('approval-decided', events.approvalDecided(id, 'approved', SERVICES)), code: 0, output: /approved by Grace \(U123, via slack\)/ },
  { name: 'approve: rejected', stage: 'approve', publish: (id) => chain.publish('approval-decided', events.approvalDecided(id, 'rejected', SERVICES)), code: 1, output: /^FAILED +approve.*rejected by Grace/m },
  { name: 'approve: expired', stage: 'approve', publish: (id) => chain.publish('approval-decided', events.approvalDecided(id, 'expired', SERVICES)), code: 1, output: /^FAILED +approve.*expired/m },
  { name: 'chart: chart-published', stage: 'chart', publish: (id) => chain.publish('chart-published', events.chartPublished(id, SERVICES)), code: 0, output: /oci:\/\/registry\.test\/charts\/online-boutique:0\.1\.1@sha256:d{64}/ },
  { name: 'deploy: synced', stage: 'deploy', publish: (id) => chain.publish('deploy-finished', events.deployFinished(id, 'synced')), code: 0, output: /deploy synced \(Argo CD application boutique at 0\.1\.1\)/ },
  { name: 'deploy: skipped (no Argo CD)', stage: 'deploy', publish: (id) => chain.publish('deploy-finished', events.deployFinished(id, 'skipped')), code: 0, output: /^OK +deploy/m },
  { name: 'deploy: degraded', stage: 'deploy', publish: (id) => chain.publish('deploy-finished', events.deployFinished(id, 'degraded')), code: 1, output: /reason: argo says degraded/ },
  { name: 'deploy: timed out in Argo CD', stage: 'deploy', publish: (id) => chain.publish('deploy-finished', events.deployFinished(id, 'timeout')), code: 1, output: /^FAILED +deploy/m },
];

describe('baton await: the outcome each stage message announces', () => {
  test.concurrent.each(rows)('$name exits $code', async ({ stage, extra, publish, code, output }) => {
    const runId = newRunId();
    await chain.createRun(runId, SERVICES);
    const waiting = await chain.startAwait(runId, stage, extra);
    const subscription = await waiting.ready;
    await publish(runId);
    const exit = await waiting.done;
    expect(exit.code).toBe(code);
    expect(exit.stdout).toMatch(output);
    await expectDeleted(subscription);
  }, TIMEOUT);
});

