import { ENVIRONMENT_CRASH_POINTS } from '../../shared/stage/crashPoint.js';
import { startEnvironmentStandIns } from '../support/environments.js';
import type { EnvironmentStandIns } from '../support/environments.js';
import { tempDir } from '../support/runtimes.js';
import { startCrashStack } from './crashHarness.js';

/**
 * The crash-point suite's environment half: `baton dev` (SQLite) with the demo's dev → prod
 * pipeline, killed in a verification and right after it started a rollback. After a restart
 * every run ends, verification is done again rather than lost, and the rollback happens once.
 */
const TIMEOUT = 240_000;

let standIns: EnvironmentStandIns;
beforeAll(async () => {
  standIns = await startEnvironmentStandIns(tempDir('baton-crash-env-'));
}, 60_000);
afterAll(async () => {
  await standIns.close();
});

test.each(ENVIRONMENT_CRASH_POINTS.map((point) => [point] as const))('killed at %s, the runs end after a restart, each side effect once', async (point) => {
  const bad = new Set<string>();
  const stack = await startCrashStack('embedded', { environments: standIns });
  const unfollow = standIns.follow(stack.ledger, 'boutique', (image, deployedBy) => (bad.has(image.builtBy?.runId ?? deployedBy) ? 0.3 : 0));
  try {
    await stack.start(point);
    if (point === 'verify:during') {
      const { runId } = await stack.push(2);
      const [run] = await stack.finish([runId]);
      expect(stack.exits[0]).toBe('SIGKILL');
      expect(run).toMatchObject({ status: 'succeeded' });
      // Verified again after the restart, not skipped: both environments' checks are on the run.
      expect(run!.deployments?.dev?.checks).toEqual([expect.objectContaining({ name: 'error-ratio', ok: true })]);
      expect(stack.counts(run!)).toMatchObject({ mirrorPushes: 1, builds: 1, chartCommits: 2, deploysReported: 2 });
    } else {
      const good = (await stack.finish([(await stack.push(2)).runId]))[0]!;
      const pushed = await stack.push(3, 'cartservice');
      bad.add(pushed.runId);
      const [failed] = await stack.finish([pushed.runId]);
      expect(stack.exits[0]).toBe('SIGKILL');
      expect(failed).toMatchObject({ status: 'rolled-back' });
      const rollbacks = (await stack.ledger.listRuns({ limit: 50 })).filter((run) => run.rollback?.fromRunId === pushed.runId);
      expect(rollbacks).toHaveLength(1);
      const [rollback] = await stack.finish([rollbacks[0]!.runId]);
      expect(rollback).toMatchObject({ status: 'succeeded', rollback: { toRunId: good.runId } });
      expect(stack.counts(rollback!).chartCommits).toBe(1);
      expect(stack.counts(failed!).chartCommits).toBe(1);
    }
  } finally {
    unfollow();
    await stack.stop();
  }
}, TIMEOUT);
