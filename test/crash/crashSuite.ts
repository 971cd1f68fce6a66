import { CRASH_POINTS } from '../../shared/stage/crashPoint.js';
import type { CrashPoint } from '../../shared/stage/crashPoint.js';
import { eventually } from '../support/runtimes.js';
import { startCrashStack } from './crashHarness.js';
import type { Kind } from './crashHarness.js';

/**
 * For each named crash point: start the stack, push, let it SIGKILL itself at that point,
 * start it again, and drive the run to its end. Every run ends, and every side effect happened
 * exactly once: one mirror push for the pushed commit, one build of the service, one chart
 * commit and one chart version, one deploy reported.
 */
export function crashPointSuite(kind: Kind): void {
  describe.each(CRASH_POINTS.map((point) => [point] as const))(`baton dev on ${kind}, killed at %s`, (point: CrashPoint) => {
    test('finishes the run after a restart, with every side effect once', async () => {
      const stack = await startCrashStack(kind);
      try {
        await stack.start(point);
        const { runId } = await stack.push(2);
        const [run] = await stack.finish([runId]);
        // The point was reached: the first process died of its own SIGKILL, and a second finished the run.
        expect(stack.exits[0]).toBe('SIGKILL');
        expect(stack.exits.length).toBeGreaterThanOrEqual(1);
        expect(run).toMatchObject({ status: 'succeeded' });
        // The deploy's one log line follows the write that ended the run (after its publish): give
        // it a moment to reach the output, then count every side effect exactly.
        await eventually(() => (stack.counts(run!).deploysReported > 0 ? true : undefined), 15_000, 'the deploy to be reported').catch(() => undefined);
        expect(stack.counts(run!)).toEqual({ mirrorPushes: 1, builds: 1, chartCommits: 1, chartVersions: 1, deploysReported: 1 });
        expect(Object.keys(run!.outbox).filter((key) => key === 'deploy-finished')).toEqual(['deploy-finished']);
      } finally {
        await stack.stop();
      }
    }, 180_000);
  });
}
