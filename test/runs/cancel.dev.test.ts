import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { useCrashStack } from '../crash/crashHarness.js';
import { eventually } from '../support/runtimes.js';

/**
 * `baton cancel` against a live `baton dev` (a child process, SQLite, real buildah and git): the
 * run is pushed, built and left waiting for its approval, then canceled from another process.
 * baton dev's own reconciler announces the end (the CLI cannot reach its in-process bus), and
 * its expiry sweep closes the request; nothing of the chart happens.
 */
describe('baton cancel beside a live baton dev', () => {
  const live = useCrashStack('embedded');

  test('a run waiting for approval ends canceled, its run-finished goes out through the reconciler, and no chart commit follows', async () => {
    const stack = live();
    const { runId, status } = await stack.push(2);
    expect(status).toBe(202);
    await eventually(async () => ((await stack.ledger.getRun(runId))?.stages.approval?.status === 'waiting' ? true : undefined), 90_000, 'the approval request');

    const cancel = await stack.baton('cancel', runId, '--as', 'dana', '--reason', 'wrong change', '--json');
    expect(JSON.parse(cancel)).toMatchObject({ outcome: 'canceled', reason: 'canceled by cli:dana: wrong change' });

    // The reconciler publishes it after the grace a live writer gets (15 s), on its 5 s tick.
    const announced = await eventually(async () => {
      const run = await stack.ledger.getRun(runId);
      return run?.finishPending === false ? run : undefined;
    }, 45_000, 'run-finished to be published');
    expect(announced).toMatchObject({ status: 'canceled', stages: { approval: { status: 'canceled' }, chart: { status: 'skipped' } } });
    expect(announced.outbox['run-finished']?.publishedAt).toBeDefined();
    // The expiry sweep, on its 60 s timer, closes the request the run was waiting on.
    const request = await eventually(async () => {
      const record = await stack.ledger.approvals.get(runId);
      return record?.status === 'decided' ? record : undefined;
    }, 75_000, 'the approval request to be closed');
    expect(request.decision).toMatchObject({ decision: 'canceled', reason: 'canceled by cli:dana: wrong change' });
    // Nothing of the chart: no commit of the run in the chart repository (so no chart version either).
    const { stdout: chartCommits } = await promisify(execFile)('git', ['log', '--format=%H', `--grep=Baton-Run: ${runId}`, 'main'], { cwd: stack.ws.charts });
    expect(chartCommits.trim()).toBe('');
    expect(announced.builds.frontend).toMatchObject({ status: 'SUCCESS' });
  }, 180_000);
});
