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
      await stack.start(points[0]);
      const runIds: string[] = [];
      for (const round of [2, 3, 4]) runIds.push((await stack.push(round)).runId);
      for (const point of points.slice(1)) {
        // It dies at its point (or is killed after 20 s, a crash at any moment), and starts again to die at the next.
        await stack.dies(20_000);
        await stack.start(point);
      }
      await stack.dies(20_000);
      const runs = await stack.finish(runIds, 150_000);
      expect(stack.exits.slice(0, 5)).toEqual(['SIGKILL', 'SIGKILL', 'SIGKILL', 'SIGKILL', 'SIGKILL']);
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
