import { eventually, logLines } from '../support/runtimes.js';
import type { RuntimeKind } from '../support/runtimes.js';
import { startChain } from './chain.js';
import type { Chain } from './chain.js';

/**
 * The gitStatus stage through the embedded stack (see chain.ts): every run's stages reach the
 * GitHub stand-in as `baton/<stage>` commit statuses, in order, once each, never backwards; a
 * git host that fails makes the event redeliver and never touches the run.
 */
const RANK: Record<string, number> = { pending: 0, success: 1, failure: 1, error: 1 };

/** Each context's states in the order GitHub received them. */
function byContext(chain: Chain, sha: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const status of chain.github.statuses('acme', 'shop', sha)) (out[status.context] ??= []).push(status.state);
  return out;
}

function expectNeverBackwards(states: Record<string, string[]>): void {
  for (const [context, list] of Object.entries(states)) {
    for (let i = 1; i < list.length; i++) expect({ context, from: list[i - 1], to: list[i], forwards: RANK[list[i]!]! > RANK[list[i - 1]!]! }).toMatchObject({ forwards: true });
  }
}

describe.each<RuntimeKind>(['in-process', 'emulators'])('gitStatus in the embedded stack (%s)', (kind) => {
  let chain: Chain;
  beforeEach(async () => {
    chain = await startChain(kind);
  });
  afterEach(async () => {
    expect(chain.github.violations).toEqual([]);
    expect(chain.github.unhandled).toEqual([]);
    await chain.close();
  });

  test('a push whose run ends: every stage reported as baton/<stage>, in run order, pending before success and never after', async () => {
    const { runId, sha } = await chain.push();
    // The approver looks at the pull request first: the approval shows as pending while it waits.
    await eventually(() => (chain.github.latestStatuses('acme', 'shop', sha)['baton/approval'] === 'pending' ? true : undefined), 15_000, 'baton/approval to be pending');
    await chain.decide(runId, 'approved');
    const run = await chain.ended(runId);
    expect(run.status).toBe('succeeded');
    expect(await chain.reported(run)).toEqual({ 'baton/intake': 'success', 'baton/mirror': 'success', 'baton/build': 'success', 'baton/approval': 'success', 'baton/deploy': 'success' });
    const states = byContext(chain, sha);
    // The contexts appear in the order the run went through its stages.
    expect(Object.keys(states)).toEqual(['baton/intake', 'baton/mirror', 'baton/build', 'baton/approval', 'baton/deploy']);
    expect(states['baton/approval']).toEqual(['pending', 'success']);
    expectNeverBackwards(states);
    expect(chain.github.statuses('acme', 'shop', sha).find((status) => status.context === 'baton/deploy')?.target_url).toBe(`http://127.0.0.1:8080/runs/${runId}`);
    // One deployment of the run's environment, moved forward to success.
    // (Deployments are reported after the commit statuses of the same snapshot.)
    const deployment = await eventually(() => chain.github.deployments('acme', 'shop').find((d) => d.statuses.at(-1)?.state === 'success'), 15_000, 'the deployment to succeed');
    expect(deployment).toMatchObject({ sha, environment: 'production' });
    expect(chain.github.deployments('acme', 'shop')).toHaveLength(1);
    // Forwards only, from queued (the approval cleared it) to success; in_progress shows when a report catches the deploy running.
    const order = ['queued', 'in_progress', 'success'];
    const ranks = deployment.statuses.map((status) => order.indexOf(status.state));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(new Set(ranks).size).toBe(ranks.length);
    expect(ranks.at(-1)).toBe(2);
    // Nothing of the reporting was written to the run: its timeline holds its own stages only.
    expect(Object.keys(run.stages)).toEqual(['intake', 'mirror', 'build', 'approval', 'deploy']);
  });

  test('a rejected approval: the approval fails the commit and the run ends with no status pending', async () => {
    const { runId, sha } = await chain.push();
    await chain.decide(runId, 'rejected');
    const run = await chain.ended(runId);
    expect(run.status).toBe('rejected');
    const latest = await chain.reported(run);
    expect(latest).toMatchObject({ 'baton/build': 'success', 'baton/approval': 'failure' });
    expectNeverBackwards(byContext(chain, sha));
    expect(chain.github.statuses('acme', 'shop', sha).find((status) => status.context === 'baton/approval' && status.state === 'failure')?.description).toMatch(/^rejected.*not today/);
  });
});

describe('gitStatus when the git host fails or the bus repeats itself', () => {
  let chain: Chain | undefined;
  afterEach(async () => {
    expect(chain?.github.violations).toEqual([]);
    await chain?.close();
    chain = undefined;
  });

  test('a failed build: the build status fails and the run ends without a pending status', async () => {
    chain = await startChain('in-process', { build: () => 'fails' });
    const { runId, sha } = await chain.push();
    const run = await chain.ended(runId);
    expect(run.status).toBe('failed');
    expect(await chain.reported(run)).toMatchObject({ 'baton/intake': 'success', 'baton/mirror': 'success', 'baton/build': 'failure' });
    expectNeverBackwards(byContext(chain, sha));
  });

  test('GitHub answering 5xx makes the event redeliver, the status arrives later, and the run is neither failed nor held up', async () => {
    chain = await startChain('in-process');
    // GitHub is down: every status call answers 502, past the client's own retries.
    chain.github.failNext({ status: 502, times: 10_000, operationId: 'repos/create-commit-status' });
    const before = logLines.length;
    const { runId, sha } = await chain.push();
    const redelivered = () => logLines.slice(before).filter((line) => line.includes('"stage":"gitStatus"') && line.includes('it will be redelivered'));
    await eventually(() => (redelivered().length ? true : undefined), 30_000, 'a gitStatus event to be redelivered');
    // Meanwhile the run went on as if GitHub did not exist, up to its approval.
    await eventually(async () => ((await chain!.runtime.ledger().getRun(runId))?.stages.approval?.status === 'waiting' ? true : undefined), 15_000, 'the run to reach its approval');
    expect(chain.github.statuses('acme', 'shop', sha)).toEqual([]);
    chain.github.clearFailures();
    await chain.decide(runId, 'approved');
    const run = await chain.ended(runId);
    expect(run.status).toBe('succeeded');
    // The statuses of the stages that ran while GitHub was down arrive with the redeliveries.
    expect(await chain.reported(run)).toEqual({ 'baton/intake': 'success', 'baton/mirror': 'success', 'baton/build': 'success', 'baton/approval': 'success', 'baton/deploy': 'success' });
    expectNeverBackwards(byContext(chain, sha));
    // The run's own record knows nothing of it: no gitStatus stage, and nothing it says names the
    // 502s (its whole JSON would not do: a random id or sha may hold the digits 502).
    expect(Object.keys(run.stages)).not.toContain('gitStatus');
    const said = [run.reason ?? '', ...Object.values(run.stages).map((stage) => stage.detail ?? ''), ...run.history.map((entry) => entry.note)].join('\n');
    expect(said).not.toMatch(/\b502\b|gitStatus/);
  }, 90_000);

  test('every message delivered twice: each status is sent once', async () => {
    chain = await startChain('in-process', { bus: { duplicateDeliveries: 1 } });
    const { runId, sha } = await chain.push();
    await chain.decide(runId, 'approved');
    const run = await chain.ended(runId);
    await chain.reported(run);
    // Let the duplicates of the last events run their course.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const sent = chain.github.statuses('acme', 'shop', sha).map((status) => `${status.context}=${status.state}`);
    expect(sent.length).toBeGreaterThan(0);
    expect(new Set(sent).size).toBe(sent.length);
    const deploymentStates = chain.github.deployments('acme', 'shop').flatMap((deployment) => deployment.statuses.map((status) => status.state));
    expect(new Set(deploymentStates).size).toBe(deploymentStates.length);
    expect(chain.github.deployments('acme', 'shop')).toHaveLength(1);
  });
});
