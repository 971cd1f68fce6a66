import { startCrashStack } from './crashHarness.js';
import { crashPointSuite } from './crashSuite.js';
import type { CrashPoint } from '../../shared/stage/crashPoint.js';

/** The crash-point suite on the deployed code path: the Pub/Sub and Firestore emulators. */
crashPointSuite('emulators');

describe('five crash-restarts in a row on one emulator project, three runs in flight', () => {
  test('every run ends', async () => {
    const stack = await startCrashStack('emulators');
    try {
      const points: CrashPoint[] = ['mirror:after-push', 'build:during', 'approval:after-record', 'chart:after-commit-push', 'chart:after-registry-push'];
      // The three pushes are all answered before the first crash: a push sent to a process that
      // is already dead is never accepted, so it has no run to end (the crash-point suite covers
      // the crash between intake's write and its answer).
      await stack.start();
      const runIds: string[] = [];
      for (const round of [2, 3, 4]) {
        const pushed = await stack.push(round);
        expect(pushed.status).toBe(202);
        runIds.push(pushed.runId);
      }
      await stack.dies(0);
      for (const point of points) {
        // It dies at its point (or is killed after 20 s, a crash at any moment), and starts again to die at the next.
        await stack.start(point);
        await stack.dies(20_000);
      }
      const runs = await stack.finish(runIds, 150_000);
      expect(stack.exits.slice(0, 6)).toEqual(['SIGKILL', 'SIGKILL', 'SIGKILL', 'SIGKILL', 'SIGKILL', 'SIGKILL']);
      for (const run of runs) {
        expect(run.status === 'succeeded' || run.status === 'superseded' || (run.status === 'failed' && Boolean(run.reason))).toBe(true);
        const counts = stack.counts(run);
        // Three pushes in a row: a later run's mirror push may carry an earlier commit along, so
        // a commit is pushed at most once and is in the mirror either way.
        expect({ runId: run.runId, mirrored: stack.mirrored(run), mirrorPushes: counts.mirrorPushes <= 1, builds: counts.builds, chartCommits: counts.chartCommits <= 1, deploys: counts.deploysReported <= 1 }).toEqual({
          runId: run.runId,
          mirrored: true,
          mirrorPushes: true,
          builds: 1,
          chartCommits: true,
          deploys: true,
        });
      }
    } finally {
      await stack.stop();
    }
  }, 400_000);
});
