import { desiredDeployments, desiredStatuses, environmentsOf, fillTargetUrl, oneLine } from '../../functions/gitStatus/mapping.js';
import type { RunSnapshot } from '../../functions/gitStatus/types.js';
import { at, happySteps, run, timeline } from './runs.js';

const states = (snapshot: RunSnapshot) => Object.fromEntries(desiredStatuses(snapshot).map((status) => [status.context, status.state]));
const deployments = (snapshot: RunSnapshot, environments?: string[]) =>
  desiredDeployments(snapshot, { defaultEnvironment: 'prod', ...(environments ? { environments } : {}) }).map((d) => `${d.environment}=${d.state}`);

describe('commit statuses of a run', () => {
  test('a whole run: one context per ledger stage, pending while it runs or waits, success when it ends', () => {
    const snapshots = timeline(happySteps, {}, { status: 'succeeded' });
    expect(states(snapshots[5]!)).toEqual({ 'baton/intake': 'success', 'baton/mirror': 'success', 'baton/build': 'success', 'baton/approval': 'pending' });
    expect(states(snapshots.at(-1)!)).toEqual({
      'baton/intake': 'success',
      'baton/mirror': 'success',
      'baton/build': 'success',
      'baton/approval': 'success',
      'baton/chart': 'success',
      'baton/deploy': 'success',
    });
  });

  test.each([
    ['a failed build', [['intake', 'succeeded'], ['build', 'running'], ['build', 'failed', 'frontend: step 2 exited 1']], 'failed', { 'baton/intake': 'success', 'baton/build': 'failure' }],
    ['a rejected approval', [['build', 'succeeded'], ['approval', 'waiting'], ['approval', 'rejected', 'rejected by U999']], 'rejected', { 'baton/build': 'success', 'baton/approval': 'failure' }],
    ['an expired approval', [['build', 'succeeded'], ['approval', 'waiting'], ['approval', 'expired', 'no decision within 24h']], 'expired', { 'baton/build': 'success', 'baton/approval': 'error' }],
    ['a superseded run', [['build', 'succeeded'], ['approval', 'superseded']], 'superseded', { 'baton/build': 'success', 'baton/approval': 'error' }],
    ['a run canceled while it waited for approval', [['build', 'succeeded'], ['approval', 'waiting'], ['approval', 'canceled', 'stopped: canceled by cli:alice']], 'canceled', { 'baton/build': 'success', 'baton/approval': 'error' }],
    ['a rolled-back deploy', [['deploy', 'succeeded'], ['deploy', 'rolled-back', 'Degraded']], 'rolled-back', { 'baton/deploy': 'failure' }],
    ['a skipped deploy', [['chart', 'succeeded'], ['deploy', 'skipped', 'no Argo CD configured']], 'succeeded', { 'baton/chart': 'success', 'baton/deploy': 'success' }],
  ] as const)('%s', (_name, steps, end, expected) => {
    const snapshots = timeline(steps.map((step) => [...step]) as never, {}, { status: end });
    expect(states(snapshots.at(-1)!)).toEqual(expected);
  });

  test('descriptions say what happened in one line under 140 characters', () => {
    const [skipped] = desiredStatuses(run({}, { deploy: { status: 'skipped', startedAt: at(0), endedAt: at(1), detail: 'no Argo CD configured' } }));
    expect(skipped!.description).toBe('skipped in 1s: no Argo CD configured');
    const [failed] = desiredStatuses(run({}, { build: { status: 'failed', startedAt: at(0), endedAt: at(125), detail: `line one\nline two ${'x'.repeat(300)}` } }));
    expect(failed!.description.startsWith('failed in 2m 5s: line one line two x')).toBe(true);
    expect(failed!.description.length).toBeLessThan(140);
    expect(failed!.description).not.toContain('\n');
    expect(oneLine('token ghp_abcdefghijklmnopqrstuvwxyz0123 leaked')).not.toContain('ghp_');
  });

  test('a stage still open when the run ended is closed with the run reason, never left pending', () => {
    const snapshot = run({ status: 'failed', reason: 'past its 2h limit' }, { build: { status: 'running', startedAt: at(0) } });
    const [status] = desiredStatuses(snapshot);
    expect(status).toMatchObject({ context: 'baton/build', state: 'error', rank: 1 });
    expect(status!.description).toBe('not finished: run failed: past its 2h limit');
  });

  test('contexts come from the ledger stage names, whatever they are', () => {
    const snapshot = run({}, { 'deploy:dev': { status: 'succeeded', startedAt: at(0), endedAt: at(1) }, 'verify:dev': { status: 'running', startedAt: at(2) } });
    expect(states(snapshot)).toEqual({ 'baton/deploy:dev': 'success', 'baton/verify:dev': 'pending' });
  });

  test('the target URL is the configured run page with the run, pipeline and stage filled in', () => {
    const [status] = desiredStatuses(run({}, { build: { status: 'running', startedAt: at(0) } }), { targetUrl: 'https://jenkins.example.com/job/{pipeline}/{runId}/?stage={stage}' });
    expect(status!.targetUrl).toBe('https://jenkins.example.com/job/shop/shop-7-a84d88e/?stage=build');
    expect(fillTargetUrl(undefined, run(), 'build')).toBeUndefined();
    expect(fillTargetUrl('https://x/{stage}', run(), 'deploy:prod')).toBe('https://x/deploy%3Aprod');
  });

  test('ranks order the states: open below ended below rolled back', () => {
    const ranks = (status: 'running' | 'succeeded' | 'rolled-back') => desiredStatuses(run({}, { deploy: { status, startedAt: at(0), endedAt: at(1) } }))[0]!.rank;
    expect([ranks('running'), ranks('succeeded'), ranks('rolled-back')]).toEqual([0, 1, 2]);
  });
});

describe('deployments of a run', () => {
  test('single environment: queued once approved, in_progress while deploying, then success', () => {
    const snapshots = timeline(happySteps, {}, { status: 'succeeded' });
    expect(deployments(snapshots[5]!)).toEqual([]); // waiting for approval: nothing is queued yet
    expect(deployments(snapshots[6]!)).toEqual(['prod=queued']);
    expect(deployments(snapshots[9]!)).toEqual(['prod=in_progress']);
    expect(deployments(snapshots.at(-1)!)).toEqual(['prod=success']);
  });

  test('a rejected or expired approval deploys nowhere', () => {
    for (const status of ['rejected', 'expired'] as const) {
      const snapshots = timeline([['build', 'succeeded'], ['approval', 'waiting'], ['approval', status]], {}, { status });
      expect(deployments(snapshots.at(-1)!)).toEqual([]);
    }
  });

  test('environments come from deploy:<env> stages; a verify stage holds the success until it passes', () => {
    const snapshot = run({}, {
      approval: { status: 'succeeded', startedAt: at(0), endedAt: at(1) },
      'deploy:dev': { status: 'succeeded', startedAt: at(2), endedAt: at(3) },
      'verify:dev': { status: 'running', startedAt: at(4) },
    });
    expect(environmentsOf(snapshot, { defaultEnvironment: 'prod' })).toEqual(['dev']);
    expect(deployments(snapshot)).toEqual(['dev=in_progress']);
    expect(deployments(snapshot, ['dev', 'prod'])).toEqual(['dev=in_progress', 'prod=queued']);
    const failed = { ...snapshot, stages: { ...snapshot.stages, 'verify:dev': { status: 'failed' as const, startedAt: at(4), endedAt: at(5) } } };
    const [dev] = desiredDeployments(failed, { defaultEnvironment: 'prod' });
    expect(dev).toMatchObject({ environment: 'dev', state: 'failure', rank: 3 });
  });

  test('a failed deploy is a failure, an expired or canceled one an error, a superseded or skipped one inactive', () => {
    const one = (status: 'failed' | 'expired' | 'canceled' | 'superseded' | 'skipped') => desiredDeployments(run({}, { deploy: { status, startedAt: at(0), endedAt: at(1), detail: 'stopped: canceled by cli:alice' } }), { defaultEnvironment: 'prod' })[0]!;
    expect(one('failed')).toMatchObject({ state: 'failure', create: true });
    expect(one('expired')).toMatchObject({ state: 'error', create: false });
    expect(one('canceled')).toMatchObject({ state: 'error', create: false, description: 'canceled: stopped: canceled by cli:alice' });
    expect(one('superseded')).toMatchObject({ state: 'inactive', create: false });
    expect(one('skipped')).toMatchObject({ state: 'inactive', create: false });
  });

  test('a run that ended after approval but before deploying closes the queued deployment', () => {
    const snapshots = timeline([['approval', 'succeeded'], ['chart', 'failed', 'push rejected']], {}, { status: 'failed', reason: 'chart push rejected' });
    expect(desiredDeployments(snapshots.at(-1)!, { defaultEnvironment: 'prod' })).toEqual([
      { environment: 'prod', state: 'error', description: 'not deployed: run failed: chart push rejected', rank: 2, create: false },
    ]);
  });
});
