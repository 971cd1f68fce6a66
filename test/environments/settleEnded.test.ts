import { makeEvent } from '../../shared/contracts/index.js';
import type { DeployFinished, EventOf, ReleaseVerified } from '../../shared/contracts/index.js';
import { parseConfig } from '../../shared/config/pipelineConfig.js';
import type { DeploymentStatus, EnvironmentDeployment } from '../../shared/ledger/environments.js';
import { RUN_FINISHED_KEY, addToOutbox, cancelRun, endRun, newRunRecord } from '../../shared/ledger/runLedger.js';
import type { RunRecord } from '../../shared/ledger/runLedger.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import { endedDeploymentStatus } from '../../domain/environments/settle.js';
import { rollbackTarget } from '../../domain/environments/release.js';
import { MANIFEST } from '../../functions/stages.js';
import { RUNTIME_KINDS, testRuntime } from '../support/runtimes.js';
import { deliver, newRun } from '../support/stages.js';
import { digestOf, uniqueName } from '../chart/fixtures.js';

/**
 * An ended run's environment deployments all end too: the ones its deploy and verify stages
 * never settled (a cancel mid-deploy, the reconciler failing the run past a limit, a crash
 * between a stage's write and its settle) are settled when the run's `run-finished` reaches
 * the promotion stage, with what those stages would have said.
 */
const CONFIG = `
pipelines:
  - name: shop
    repository: acme/shop
    branches: [main]
    services: [{ name: frontend, path: src/frontend/ }]
    deploy:
      argocd: { url: "https://argocd.internal" }
    environments:
      - name: dev
        promotion: auto
        argocd: { application: shop-dev }
        values: values-dev.yaml
        verify:
          prometheus: { url: "http://127.0.0.1:9" }
          for: 30s
          checks:
            - { name: availability, query: 'avg(up)', min: 1 }
      - name: prod
        promotion: approval
        argocd: { application: shop-prod }
        values: values-prod.yaml
`;
const pipeline = parseConfig(CONFIG, 'settle.yaml').pipelines[0]!;
const PLAN = MANIFEST.runPlan(pipeline);
const AT = '2026-12-02T10:00:00.000Z';
const SHA = 'c'.repeat(40);
const image = (tag: string) => ({ service: 'frontend', repository: 'registry.test/shop/frontend', tag, digest: digestOf(`frontend:${tag}`) });

function deployFinished(runId: string, environment: string, status: DeployFinished['status'], kind: DeployFinished['kind'] = 'promotion'): EventOf<'deploy-finished'> {
  return makeEvent('deploy-finished', { runId, pipeline: 'shop', status, environment, images: [image('v2')], kind });
}

function releaseVerified(runId: string, environment: string, verdict: ReleaseVerified['verdict'], rollbackRunId?: string): EventOf<'release-verified'> {
  return makeEvent('release-verified', { runId, pipeline: 'shop', environment, verdict, checks: [], ...(rollbackRunId ? { rollbackRunId } : {}) });
}

/** A run of the plan above, with the events its stages wrote for `environment`. */
function runWith(status: RunRecord['status'], events: Array<{ key: string; event: EventOf<'deploy-finished' | 'release-verified'> }>, runId = 'shop-ccccccc-1'): RunRecord {
  const run = newRunRecord(newRun({ runId, after: SHA, services: ['frontend'], plan: PLAN }), new Date(AT));
  addToOutbox(run, events.map(({ key, event }) => ({ key, topic: event.type, event })), AT);
  run.status = status;
  return run;
}

describe('endedDeploymentStatus: what a deployment nobody settled amounted to', () => {
  const id = 'shop-ccccccc-1';
  const cases: Array<[string, RunRecord, string, boolean, DeploymentStatus]> = [
    ['canceled before the deploy said anything', runWith('canceled', []), 'dev', true, 'canceled'],
    ['failed (the reconciler) before the deploy said anything', runWith('failed', []), 'dev', true, 'failed'],
    ['canceled while verifying a synced deploy', runWith('canceled', [{ key: 'deploy-finished:dev', event: deployFinished(id, 'dev', 'synced') }]), 'dev', true, 'canceled'],
    ['verified and passed, the settle lost to a crash', runWith('succeeded', [{ key: 'deploy-finished:dev', event: deployFinished(id, 'dev', 'synced') }, { key: 'release-verified:dev', event: releaseVerified(id, 'dev', 'passed') }]), 'dev', true, 'succeeded'],
    ['verification failed and rolled back', runWith('rolled-back', [{ key: 'deploy-finished:dev', event: deployFinished(id, 'dev', 'synced') }, { key: 'release-verified:dev', event: releaseVerified(id, 'dev', 'failed', 'shop-rollback-dev-1') }]), 'dev', true, 'rolled-back'],
    ['verification failed with nothing to roll back to', runWith('failed', [{ key: 'deploy-finished:dev', event: deployFinished(id, 'dev', 'synced') }, { key: 'release-verified:dev', event: releaseVerified(id, 'dev', 'failed') }]), 'dev', true, 'failed'],
    ['verification overtaken by a newer deployment', runWith('succeeded', [{ key: 'deploy-finished:dev', event: deployFinished(id, 'dev', 'synced') }, { key: 'release-verified:dev', event: releaseVerified(id, 'dev', 'superseded') }]), 'dev', true, 'superseded'],
    ['an unverified environment synced', runWith('succeeded', [{ key: 'deploy-finished:prod', event: deployFinished(id, 'prod', 'synced') }]), 'prod', false, 'succeeded'],
    ['no Argo CD configured (skipped counts as deployed)', runWith('succeeded', [{ key: 'deploy-finished:prod', event: deployFinished(id, 'prod', 'skipped') }]), 'prod', false, 'succeeded'],
    ['Argo CD said Degraded', runWith('failed', [{ key: 'deploy-finished:prod', event: deployFinished(id, 'prod', 'degraded') }]), 'prod', false, 'failed'],
    ['a newer release took over before it ran', runWith('superseded', [{ key: 'deploy-finished:prod', event: deployFinished(id, 'prod', 'superseded') }]), 'prod', false, 'superseded'],
    ['a rollback is not verified again', runWith('succeeded', [{ key: 'deploy-finished:dev', event: deployFinished(id, 'dev', 'synced', 'rollback') }]), 'dev', true, 'succeeded'],
    ["another environment's events say nothing of this one", runWith('canceled', [{ key: 'deploy-finished:dev', event: deployFinished(id, 'dev', 'synced') }]), 'prod', false, 'canceled'],
  ];
  test.each(cases)('%s', (_what, run, environment, verified, expected) => {
    expect(endedDeploymentStatus(run, environment, verified)).toBe(expected);
  });

  test('an outbox event that breaks its contract counts as not said', () => {
    const run = runWith('canceled', []);
    run.outbox['deploy-finished:dev'] = { topic: 'deploy-finished', event: { type: 'deploy-finished', status: 'synced' }, at: AT };
    expect(endedDeploymentStatus(run, 'dev', false)).toBe('canceled');
  });
});

describe.each(RUNTIME_KINDS)('promotion settles what an ended run left in progress (%s runtime)', (kind) => {
  let runtime: Runtime;
  beforeAll(() => {
    runtime = testRuntime(kind, CONFIG);
  });
  afterAll(async () => {
    await runtime.ledger().close();
    await runtime.bus().close();
  });

  const deployment = (runId: string, environment: string, status: DeploymentStatus, at: string, tag: string): EnvironmentDeployment => ({
    environment,
    runId,
    order: `${at}~${runId}`,
    release: { frontend: image(tag).digest },
    images: [image(tag)],
    at,
    status,
    kind: 'promotion',
  });

  /** A run of `shop` that reached `environment`'s chart: its deployment recorded in progress, after an earlier run's that succeeded. */
  async function runInEnvironment(environment: string, events: (runId: string) => Array<{ key: string; event: EventOf<'deploy-finished' | 'release-verified'> }>): Promise<string> {
    const ledger = runtime.ledger();
    const earlier = uniqueName('shop-earlier');
    const runId = uniqueName('shop-run');
    await ledger.environments.recordDeployment('shop', deployment(earlier, environment, 'succeeded', '2026-12-02T09:00:00.000Z', 'v1'));
    await ledger.environments.recordDeployment('shop', deployment(runId, environment, 'in-progress', AT, 'v2'));
    await ledger.createRun(newRun({ runId, after: SHA, services: ['frontend'], plan: PLAN }), new Date(AT), {}, {});
    await ledger.updateRun(runId, (run) => addToOutbox(run, events(runId).map(({ key, event }) => ({ key, topic: event.type, event })), AT).length > 0);
    return runId;
  }

  const finish = async (runId: string) => {
    const run = (await runtime.ledger().getRun(runId))!;
    const entry = run.outbox[RUN_FINISHED_KEY]!;
    expect(entry).toBeDefined();
    // Twice, as Pub/Sub may: the second delivery changes nothing.
    for (let i = 0; i < 2; i++) await deliver(runtime, 'promotion', 'run-finished', entry.event as EventOf<'run-finished'>, { key: RUN_FINISHED_KEY });
  };
  const history = async (environment: string) => (await runtime.ledger().environments.get('shop', environment)).history;
  const statusOf = async (environment: string, runId: string) => (await history(environment)).find((entry) => entry.runId === runId)?.status;

  test('a run canceled while dev verified it: its dev deployment ends canceled, and a rollback of dev goes to the release verified before it', async () => {
    const runId = await runInEnvironment('dev', (id) => [{ key: 'deploy-finished:dev', event: deployFinished(id, 'dev', 'synced') }]);
    await runtime.ledger().updateRun(runId, (run) => cancelRun(run, 'cli:alice', 'wrong branch', MANIFEST.plan(run), AT).outcome === 'canceled');
    expect(await statusOf('dev', runId)).toBe('in-progress');
    await finish(runId);
    expect(await statusOf('dev', runId)).toBe('canceled');
    const target = rollbackTarget(await history('dev'), 'dev');
    expect(target).toMatchObject({ ok: true, release: { frontend: image('v1').digest } });
    expect(target.ok && target.runId).toMatch(/^shop-earlier/);
    // The earlier deployment is as it was.
    expect((await history('dev')).filter((entry) => entry.status === 'succeeded')).toHaveLength(1);
  });

  test('a run the reconciler failed mid-deploy: its deployment ends failed', async () => {
    const runId = await runInEnvironment('prod', () => []);
    await runtime.ledger().updateRun(runId, (run) => {
      endRun(run, 'failed', 'deploy:prod exceeded its limit', MANIFEST.plan(run), AT);
      return true;
    });
    await finish(runId);
    expect(await statusOf('prod', runId)).toBe('failed');
  });

  test('a run that succeeded but whose deploy settle was lost to a crash: its deployment ends succeeded', async () => {
    const runId = await runInEnvironment('prod', (id) => [{ key: 'deploy-finished:prod', event: deployFinished(id, 'prod', 'synced') }]);
    await runtime.ledger().updateRun(runId, (run) => {
      endRun(run, 'succeeded', 'deployed', MANIFEST.plan(run), AT);
      return true;
    });
    await finish(runId);
    expect(await statusOf('prod', runId)).toBe('succeeded');
  });

  test('a verification under way when its run was canceled still gives its verdict, which replaces canceled', async () => {
    const runId = await runInEnvironment('dev', (id) => [{ key: 'deploy-finished:dev', event: deployFinished(id, 'dev', 'synced') }]);
    await runtime.ledger().updateRun(runId, (run) => cancelRun(run, 'cli:alice', undefined, MANIFEST.plan(run), AT).outcome === 'canceled');
    await finish(runId);
    expect(await statusOf('dev', runId)).toBe('canceled');
    await runtime.ledger().environments.settleDeployment('shop', 'dev', runId, 'succeeded');
    expect(await statusOf('dev', runId)).toBe('succeeded');
    // A verdict stays: a late run-finished does not take it back.
    await finish(runId);
    expect(await statusOf('dev', runId)).toBe('succeeded');
  });

  test('a deployment its stage already settled is left as it is', async () => {
    const runId = await runInEnvironment('dev', (id) => [{ key: 'deploy-finished:dev', event: deployFinished(id, 'dev', 'synced') }]);
    await runtime.ledger().environments.settleDeployment('shop', 'dev', runId, 'rolled-back');
    await runtime.ledger().updateRun(runId, (run) => cancelRun(run, 'cli:alice', undefined, MANIFEST.plan(run), AT).outcome === 'canceled');
    await finish(runId);
    expect(await statusOf('dev', runId)).toBe('rolled-back');
  });
});
