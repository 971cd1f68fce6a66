import { MANIFEST } from '../../functions/stages.js';
import { ChainHarness, SHA, events } from './awaitHarness.js';

// Each case starts `baton` processes; on a loaded machine one can take several seconds.
const TIMEOUT = 300_000;

/**
 * The acceptance check: a run on the emulators followed stage by stage exactly as
 * `jenkins/Jenkinsfile` does (await intake, await mirror, read the services with
 * `baton status --json`, one build wait per service in parallel, approve, chart, deploy), while
 * the test plays the functions: it writes the ledger and publishes each stage's message.
 */
const chain = new ChainHarness();
afterAll(async () => {
  await chain.close();
});

test('a whole run can be followed with baton await, with exit codes matching each stage', async () => {
  const runId = `shop-1-${SHA.slice(0, 7)}`;
  const services = ['frontend', 'cartservice'];
  // Intake: the run exists before Jenkins is triggered; services unresolved (a forced push).
  await chain.createRun(runId, []);

  const intake = await chain.startAwait(runId, 'intake');
  await chain.publish('push-received', { ...events.pushReceived(runId, []), servicesResolved: false, unresolvedReason: 'forced' });
  await chain.ledger.recordStage(runId, 'intake', { status: 'succeeded', detail: 'github push aaaaaaa to main' }, MANIFEST.plan);
  expect((await intake.done).code).toBe(0);

  // Mirror ends before Jenkins gets to its stage: the wait finds it in the ledger.
  await chain.ledger.updateRun(runId, (run) => ((run.services = services), true));
  await chain.ledger.recordStage(runId, 'mirror', { status: 'succeeded', detail: 'mirrored aaaaaaa' }, MANIFEST.plan);
  await chain.publish('source-mirrored', events.sourceMirrored(runId, services));
  const mirror = await chain.baton(['await', runId, '--stage', 'mirror', '--timeout', '120']).done;
  expect(mirror.code).toBe(0);

  // The Jenkinsfile's Build stage reads the services, then waits for each in parallel.
  const status = await chain.baton(['status', runId, '--json']).done;
  expect(status.code).toBe(0);
  const run = JSON.parse(status.stdout) as { services: string[] };
  expect(run.services).toEqual(services);
  const builds = await Promise.all(run.services.map((service) => chain.startAwait(runId, 'build', ['--service', service])));
  for (const service of services) {
    await chain.publish('build-finished', events.buildFinished(runId, service, 'SUCCESS'));
    await chain.ledger.updateRun(runId, (current) => ((current.builds[service] = { buildId: `build-${service}`, status: 'SUCCESS' }), true));
  }
  const buildExits = await Promise.all(builds.map((build) => build.done));
  expect(buildExits.map((exit) => exit.code)).toEqual([0, 0]);
  expect(buildExits[1]!.stdout).toMatch(/cartservice: SUCCESS/);
  await chain.ledger.recordStage(runId, 'build', { status: 'succeeded' }, MANIFEST.plan);
  await chain.ledger.recordStage(runId, 'approval', { status: 'waiting', links: { slack: 'https://slack.test/archives/C1/p1' } }, MANIFEST.plan);

  const approve = await chain.startAwait(runId, 'approve');
  await chain.ledger.recordStage(runId, 'approval', { status: 'succeeded', detail: 'approved by Grace' }, MANIFEST.plan);
  await chain.publish('approval-decided', events.approvalDecided(runId, 'approved', services));
  const approved = await approve.done;
  expect(approved.code).toBe(0);
  expect(approved.stdout).toMatch(/slack: https:\/\/slack\.test\/archives\/C1\/p1/);

  const chart = await chain.startAwait(runId, 'chart');
  await chain.publish('chart-published', events.chartPublished(runId, services));
  await chain.ledger.recordStage(runId, 'chart', { status: 'succeeded', links: { oci: 'oci://registry.test/charts/online-boutique:0.1.1' } }, MANIFEST.plan);
  expect((await chart.done).code).toBe(0);

  const deploy = await chain.startAwait(runId, 'deploy');
  await chain.publish('deploy-finished', events.deployFinished(runId, 'degraded'));
  await chain.ledger.recordStage(runId, 'deploy', { status: 'failed', detail: 'Argo CD: Degraded' }, MANIFEST.plan);
  const deployed = await deploy.done;
  expect(deployed.code).toBe(1);
  expect(deployed.stdout).toMatch(/^FAILED +deploy/m);

  // What people see: the run list and the timeline.
  const runs = await chain.baton(['runs', '--json']).done;
  expect((JSON.parse(runs.stdout) as Array<{ runId: string; status: string }>)).toEqual([expect.objectContaining({ runId, status: 'failed' })]);
  const timeline = (await chain.baton(['status', runId]).done).stdout;
  expect(timeline).toMatch(/^run shop-1-aaaaaaa: failed/m);
  for (const [stage, statusText] of [['intake', 'succeeded'], ['mirror', 'succeeded'], ['build', 'succeeded'], ['approval', 'succeeded'], ['chart', 'succeeded'], ['deploy', 'failed']]) {
    expect(timeline).toMatch(new RegExp(`^${stage} +${statusText} +\\d{4}-\\d\\d-\\d\\dT\\S+ +\\d`, 'm'));
  }
  expect(timeline).toMatch(/Argo CD: Degraded/);
  expect(timeline).toMatch(/approval slack: https:\/\/slack\.test\/archives\/C1\/p1/);
  expect(timeline).toMatch(/chart oci: oci:\/\/registry\.test/);
  await chain.expectNoAwaitSubscriptions();
}, TIMEOUT);
