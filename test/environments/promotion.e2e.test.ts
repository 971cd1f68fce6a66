import { execFileSync } from 'node:child_process';
import { runEnvironments } from '../../domain/environments/summary.js';
import { MANIFEST } from '../../functions/stages.js';
import type { RunRecord } from '../../shared/ledger/runLedger.js';
import { startCrashStack } from '../crash/crashHarness.js';
import type { CrashStack } from '../crash/crashHarness.js';
import { startEnvironmentStandIns } from '../support/environments.js';
import type { EnvironmentStandIns } from '../support/environments.js';
import { eventually, tempDir } from '../support/runtimes.js';

/**
 * Environments end to end (issue #15), with `baton dev` as a process on SQLite: real git, buildah
 * builds into the registry, the real chart, a real Prometheus scraping the workloads' stand-in,
 * and Argo CD's stand-in following the chart commits. The pipeline is the demo's: dev (auto,
 * verified) → prod (approval, verified).
 */
const TIMEOUT = 240_000;

let standIns: EnvironmentStandIns;
beforeAll(async () => {
  standIns = await startEnvironmentStandIns(tempDir('baton-env-'));
}, 60_000);
afterAll(async () => {
  await standIns.close();
});

/** A stack whose cluster follows its chart commits; images built by `bad` runs answer 30 % errors. */
async function stack(bad: Set<string> = new Set(), verifyFor?: string): Promise<{ stack: CrashStack; stop: () => Promise<void> }> {
  const created = await startCrashStack('embedded', { environments: standIns, ...(verifyFor ? { verifyFor } : {}) });
  const unfollow = standIns.follow(created.ledger, 'boutique', (image, deployedBy) => (bad.has(image.builtBy?.runId ?? deployedBy) ? 0.3 : 0));
  await created.start();
  return {
    stack: created,
    stop: async () => {
      unfollow();
      await created.stop();
    },
  };
}

const envs = (s: CrashStack, run: RunRecord) => runEnvironments(run, MANIFEST, s.ledger);
const builtDigest = (run: RunRecord, service: string) => run.builds[service]!.image!.digest;
const valuesAt = (s: CrashStack, file: string) => execFileSync('git', ['show', `main:charts/online-boutique/${file}`], { cwd: s.ws.charts, encoding: 'utf8' });

test('a release goes dev (auto) → verified → prod (approved) → verified, with the same digests, each pinned in its own values file', async () => {
  const { stack: s, stop } = await stack();
  try {
    const { runId } = await s.push(2);
    const [run] = await s.finish([runId]);
    expect({ status: run!.status, reason: run!.reason }).toEqual({ status: 'succeeded', reason: undefined });
    expect(MANIFEST.plan(run!)).toEqual(['intake', 'mirror', 'build', 'chart:dev', 'deploy:dev', 'verify:dev', 'approval:prod', 'chart:prod', 'deploy:prod', 'verify:prod']);
    // In order: prod's approval was asked only once dev was verified.
    expect(Date.parse(run!.stages['approval:prod']!.startedAt)).toBeGreaterThanOrEqual(Date.parse(run!.stages['verify:dev']!.endedAt!));
    const digest = builtDigest(run!, 'frontend');
    expect(await envs(s, run!)).toEqual({
      dev: { status: 'succeeded', release: { frontend: digest }, verify: { checks: [{ name: 'error-ratio', value: 0, ok: true }] } },
      prod: { status: 'succeeded', release: { frontend: digest }, verify: { checks: [{ name: 'error-ratio', value: 0, ok: true }] } },
    });
    // dev by baton itself, prod by the approver; one decision each.
    expect(run!.decisions?.dev?.decidedBy).toMatchObject({ via: 'system', name: 'auto-promotion' });
    expect(run!.decisions?.prod?.decidedBy).toMatchObject({ via: 'cli', id: 'crash' });
    expect(valuesAt(s, 'values-dev.yaml')).toContain(digest);
    expect(valuesAt(s, 'values-prod.yaml')).toContain(digest);
    expect(s.counts(run!).chartCommits).toBe(2);
  } finally {
    await stop();
  }
}, TIMEOUT);

test('a failed check rolls dev back to the previous release by a rollback run, says why, and never promotes to prod', async () => {
  const bad = new Set<string>();
  const { stack: s, stop } = await stack(bad);
  try {
    const good = (await s.finish([(await s.push(2)).runId]))[0]!;
    const pushed = await s.push(3, 'cartservice');
    bad.add(pushed.runId);
    const [failed] = await s.finish([pushed.runId]);
    expect(failed!.status).toBe('rolled-back');
    expect(failed!.stages['verify:dev']).toMatchObject({ status: 'rolled-back', detail: expect.stringMatching(/error-ratio \(cartservice\): above max 0\.05: 0\.3/) });
    for (const stage of ['approval:prod', 'chart:prod', 'deploy:prod', 'verify:prod']) expect(failed!.stages[stage]?.status).toBe('skipped');
    const rollbackRunId = failed!.stages['verify:dev']!.links!.rollback!;
    const [rollback] = await s.finish([rollbackRunId]);
    expect(rollback).toMatchObject({ status: 'succeeded', rollback: { environment: 'dev', toRunId: good.runId, fromRunId: failed!.runId } });
    // dev's values file is back to the good release: cartservice's bad pin is gone too.
    const dev = valuesAt(s, 'values-dev.yaml');
    expect(dev).toContain(builtDigest(good, 'frontend'));
    expect(dev).not.toContain(builtDigest(failed!, 'cartservice'));
    expect(valuesAt(s, 'values-prod.yaml')).not.toContain(builtDigest(failed!, 'cartservice'));
    expect((await envs(s, failed!)).prod).toEqual({ status: 'skipped', release: {}, verify: { checks: [] } });
  } finally {
    await stop();
  }
}, TIMEOUT);

test('a run canceled while dev verifies it: dev keeps its release, and its deployment there ends canceled, not in progress', async () => {
  // A verification long enough for the cancel, and the run-finished after it, to land inside it
  // (its verdict, had it come first, would have settled the deployment instead).
  const { stack: s, stop } = await stack(new Set(), '90s');
  try {
    const { runId } = await s.push(2);
    await eventually(async () => ((await s.ledger.getRun(runId))?.stages['verify:dev']?.status === 'running' ? true : undefined), 120_000, 'dev verifying the run');
    await s.baton('cancel', runId, '--as', 'alice', '--reason', 'wrong change');
    // Beside baton dev, its reconciler publishes the canceled run's run-finished; promotion then settles dev.
    const deployment = await eventually(async () => {
      const entry = (await s.ledger.environments.get('boutique', 'dev')).history.find((candidate) => candidate.runId === runId);
      return entry?.status === 'in-progress' ? undefined : entry;
    }, 90_000, "the canceled run's dev deployment to end");
    const canceled = (await s.ledger.getRun(runId))!;
    expect(canceled).toMatchObject({ status: 'canceled', reason: 'canceled by cli:alice: wrong change' });
    expect(canceled.stages['verify:dev']!.status).toBe('canceled');
    expect(deployment).toMatchObject({ status: 'canceled', release: { frontend: builtDigest(canceled, 'frontend') } });
    // What the run did stays done: dev's values file pins the canceled run's build.
    expect(valuesAt(s, 'values-dev.yaml')).toContain(builtDigest(canceled, 'frontend'));
    // A graceful stop would wait for the verification still in flight: kill the stack instead.
    await s.dies(0);
  } finally {
    await stop();
  }
}, TIMEOUT);

test('a held environment stops automation; the run waits there, says why, and goes on when released', async () => {
  const { stack: s, stop } = await stack();
  try {
    expect(await s.operate({ op: 'hold', pipeline: 'boutique', environment: 'prod', reason: 'freeze for the launch' })).toMatchObject({ ok: true });
    const { runId } = await s.push(2);
    const waiting = await eventually(async () => {
      const run = await s.ledger.getRun(runId);
      return run?.stages['approval:prod']?.status === 'waiting' ? run : undefined;
    }, 120_000, 'the run waiting at the held prod');
    expect(waiting.stages['approval:prod']!.detail).toMatch(/^held by cli:crash since .*: freeze for the launch/);
    expect(waiting.stages['verify:dev']!.status).toBe('succeeded');
    expect((await envs(s, waiting)).prod!.status).toBe('held');
    // Nobody may approve past a hold either.
    expect(await s.operate({ op: 'promote', runId, environment: 'prod' })).toMatchObject({ ok: false, message: expect.stringMatching(/prod is held/) });
    expect(await s.operate({ op: 'release', pipeline: 'boutique', environment: 'prod' })).toMatchObject({ ok: true });
    const [run] = await s.finish([runId]);
    expect(run!.status).toBe('succeeded');
    expect(run!.stages['verify:prod']!.status).toBe('succeeded');
  } finally {
    await stop();
  }
}, TIMEOUT);

test('rollback to a named run, by an approver of the environment; a stranger is refused', async () => {
  const { stack: s, stop } = await stack();
  try {
    const first = (await s.finish([(await s.push(2)).runId]))[0]!;
    const second = (await s.finish([(await s.push(3)).runId]))[0]!;
    expect(valuesAt(s, 'values-prod.yaml')).toContain(builtDigest(second, 'frontend'));
    expect(await s.operate({ op: 'rollback', pipeline: 'boutique', environment: 'prod', toRunId: first.runId, decider: { id: 'mallory', via: 'cli' } })).toMatchObject({ ok: false, message: expect.stringMatching(/not allowed/) });
    const started = await s.operate({ op: 'rollback', pipeline: 'boutique', environment: 'prod', toRunId: first.runId, reason: 'checkout is slow' });
    expect(started).toMatchObject({ ok: true, runId: expect.stringMatching(/^boutique-rollback-prod-/) });
    const [rollback] = await s.finish([started.runId!]);
    expect(rollback!.status).toBe('succeeded');
    expect(valuesAt(s, 'values-prod.yaml')).toContain(builtDigest(first, 'frontend'));
    // dev keeps the second release: a rollback moves its one environment only.
    expect(valuesAt(s, 'values-dev.yaml')).toContain(builtDigest(second, 'frontend'));
  } finally {
    await stop();
  }
}, TIMEOUT);

test('racing runs never move an environment backwards: the newest build is what each environment ends with', async () => {
  const { stack: s, stop } = await stack();
  try {
    const older = await s.push(2);
    const newer = await s.push(3);
    const runs = await s.finish([older.runId, newer.runId]);
    const newest = builtDigest(runs[1]!, 'frontend');
    for (const environment of ['dev', 'prod']) {
      const history = (await s.ledger.environments.get('boutique', environment)).history;
      expect(history.at(-1)!.release.frontend).toBe(newest);
    }
    expect(valuesAt(s, 'values-dev.yaml')).toContain(newest);
    expect(valuesAt(s, 'values-prod.yaml')).toContain(newest);
    // The older run either went first, or stopped where the newer one already was.
    expect(`${runs[0]!.status}: ${runs[0]!.reason}`).toMatch(/^(succeeded|superseded):/);
    expect(`${runs[1]!.status}: ${runs[1]!.reason}`).toMatch(/^succeeded:/);
  } finally {
    await stop();
  }
}, TIMEOUT);
