import { useCrashStack } from '../crash/crashHarness.js';
import type { CrashStack } from '../crash/crashHarness.js';
import { eventually } from '../support/runtimes.js';

/**
 * `baton retry` against a live `baton dev` (a child process, SQLite, real buildah and git): the
 * binary asks baton dev (its loopback route; the bus lives in that process) to run a canceled
 * run's push again. The attempt goes through the whole chain: built again, approved, its own
 * chart commit. A retry of an older push after a newer one was deployed is superseded at its
 * chart bump, and moves nothing back.
 */

/** The CLI beside the stack's baton dev, and waits on its ledger. */
function driver(stack: () => CrashStack) {
  const baton = async (...args: string[]) => JSON.parse(await stack().baton(...args)) as Record<string, unknown>;
  const waitingForApproval = (runId: string) => eventually(async () => ((await stack().ledger.getRun(runId))?.stages.approval?.status === 'waiting' ? true : undefined), 90_000, `${runId} to wait for approval`);
  const ended = (runId: string) =>
    eventually(async () => {
      const run = await stack().ledger.getRun(runId);
      return run && run.status !== 'running' ? run : undefined;
    }, 90_000, `${runId} to end`);
  return { baton, waitingForApproval, ended };
}

describe('baton retry beside a live baton dev', () => {
  const live = useCrashStack('embedded');
  const { baton, waitingForApproval, ended } = driver(live);

  test('a canceled run is retried through baton dev and deploys as a run of its own; retrying it after a newer push deployed is superseded and moves nothing back', async () => {
    const stack = live();
    const { runId: first, status } = await stack.push(2);
    expect(status).toBe(202);
    await waitingForApproval(first);
    expect(await baton('cancel', first, '--as', 'dana', '--json')).toMatchObject({ outcome: 'canceled' });
    // A malformed request to baton dev's route is a 400 that names the field, and starts nothing.
    const malformed = await fetch(`${stack.url}/_local/retry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ runId: first }) });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: string }).error).toMatch(/^by: /);
    expect(await stack.ledger.getRun(`${first}-r2`)).toBeUndefined();

    expect(await baton('retry', first, '--as', 'dana', '--reason', 'it was the right change', '--json')).toEqual({
      ok: true,
      outcome: 'started',
      runId: `${first}-r2`,
      retryOf: first,
      attempt: 2,
      message: `run ${first}-r2 started: attempt 2 of ${first}, retried by cli:dana: it was the right change`,
    });
    const second = `${first}-r2`;
    await waitingForApproval(second);
    await stack.approve(second);
    const deployed = await ended(second);
    expect(deployed).toMatchObject({ status: 'succeeded', retry: { runId: first, attempt: 2 } });
    // Built again and committed once, under its own id; the canceled run has no chart commit.
    // The deploy's log line reaches this process through a pipe, maybe after the ledger write.
    await eventually(() => (stack.counts(deployed).deploysReported > 0 ? true : undefined), 10_000, 'the deploy to be reported');
    expect(stack.counts(deployed)).toMatchObject({ builds: 1, chartCommits: 1, deploysReported: 1 });
    const canceled = (await stack.ledger.getRun(first))!;
    expect(canceled.status).toBe('canceled');
    expect(stack.counts(canceled)).toMatchObject({ builds: 1, chartCommits: 0 });
    // The mirror already held the commit: the attempt pushed nothing to it again.
    expect(stack.counts(deployed).mirrorPushes).toBe(1);
    // The canceled run's status points at the attempt that deployed.
    expect(await stack.baton('status', first)).toContain(`\nattempts: 1. ${first} canceled (this one) · 2. ${second} succeeded\n`);

    // A newer push deploys; then the older push is retried once more.
    const { runId: newer } = await stack.push(3);
    await waitingForApproval(newer);
    await stack.approve(newer);
    expect(await ended(newer)).toMatchObject({ status: 'succeeded' });
    const chartVersions = stack.counts(deployed).chartVersions;
    expect(await baton('retry', second, '--as', 'dana', '--json')).toMatchObject({ outcome: 'started', runId: `${first}-r3`, attempt: 3 });
    // Built and approved like any run; the chart bump finds the newer build deployed and moves nothing back.
    await waitingForApproval(`${first}-r3`);
    await stack.approve(`${first}-r3`);
    const third = await ended(`${first}-r3`);
    expect(third).toMatchObject({ status: 'superseded', stages: { approval: { status: 'superseded', detail: `superseded: service frontend already runs a newer deploy (${newer})` }, chart: { status: 'skipped' } } });
    expect(stack.counts(third)).toMatchObject({ chartCommits: 0, chartVersions });
  }, 300_000);
});

describe('baton retry when baton dev dies starting the attempt', () => {
  // Only a retry reaches this point: the push and its first run go as ever.
  const live = useCrashStack('embedded', 'retry:after-ledger-write');
  const { baton, waitingForApproval, ended } = driver(live);

  test('killed at retry:after-ledger-write, the attempt is written but never started; after the restart it runs to its one chart commit', async () => {
    const stack = live();
    const { runId: first } = await stack.push(2);
    await waitingForApproval(first);
    expect(await baton('cancel', first, '--as', 'dana', '--json')).toMatchObject({ outcome: 'canceled' });
    // baton dev dies answering: the CLI reports the error.
    await expect(baton('retry', first, '--as', 'dana', '--json')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('failed to reach baton dev') });
    await stack.dies(10_000);
    expect(stack.exits.at(-1)).toBe('SIGKILL');
    const second = `${first}-r2`;
    const written = (await stack.ledger.getRun(second))!;
    expect(written).toMatchObject({ status: 'running', retry: { runId: first, attempt: 2 } });
    expect(written.outbox['push-received']?.publishedAt).toBeUndefined();
    expect(written.stages.mirror).toBeUndefined();

    await stack.start();
    await waitingForApproval(second);
    // Asked again, it is the same attempt.
    expect(await baton('retry', first, '--as', 'dana', '--json')).toMatchObject({ outcome: 'already-retrying', runId: second });
    await stack.approve(second);
    const deployed = await ended(second);
    expect(deployed.status).toBe('succeeded');
    expect(deployed.history.map((entry) => entry.note).join('\n')).toMatch(/re-drove push-received/);
    // The deploy's log line reaches this process through a pipe, maybe after the ledger write.
    await eventually(() => (stack.counts(deployed).deploysReported > 0 ? true : undefined), 10_000, 'the deploy to be reported');
    expect(stack.counts(deployed)).toMatchObject({ builds: 1, chartCommits: 1, deploysReported: 1 });
    expect(await stack.ledger.getRun(`${first}-r3`)).toBeUndefined();
  }, 300_000);
});
