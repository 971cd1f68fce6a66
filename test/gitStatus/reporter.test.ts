import { MemoryReportLedger } from '../../functions/gitStatus/memoryLedger.js';
import { reportRun } from '../../functions/gitStatus/reporter.js';
import type { ReportDeps } from '../../functions/gitStatus/reporter.js';
import { PermanentGitHostError, TransientGitHostError } from '../../functions/gitStatus/types.js';
import type { DeploymentState, DesiredStatus, GitHost, RunSnapshot } from '../../functions/gitStatus/types.js';
import { happySteps, timeline } from './runs.js';

/**
 * The reporter against a recording git host: which calls reach the host, in which order they
 * land, for duplicated, reordered and concurrent snapshots. (The real GitHub client against the
 * stand-in is githubHost.test.ts.)
 */
class RecordingHost implements GitHost {
  readonly provider = 'github' as const;
  /** `context=state` / `deployment#id=state` in the order the calls finished. */
  readonly landed: string[] = [];
  readonly created: Array<{ id: number; environment: string; runId: string }> = [];
  /** Fails the next calls matching `pattern` with the given error. */
  failures: Array<{ pattern: RegExp; error: Error }> = [];
  delayMs: (label: string) => number = () => 0;
  private nextId = 100;

  private async call(label: string): Promise<void> {
    const index = this.failures.findIndex((failure) => failure.pattern.test(label));
    if (index >= 0) throw this.failures.splice(index, 1)[0]!.error;
    const delay = this.delayMs(label);
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
    this.landed.push(label);
  }

  async setStatus(_repository: string, _sha: string, status: DesiredStatus): Promise<void> {
    await this.call(`${status.context}=${status.state}`);
  }

  readonly deployments = {
    create: async (_repository: string, _sha: string, environment: string, details: { runId: string }) => {
      await this.call(`create:${environment}`);
      const id = ++this.nextId;
      this.created.push({ id, environment, runId: details.runId });
      return { id };
    },
    setState: async (_repository: string, deploymentId: number, state: DeploymentState) => {
      await this.call(`deployment#${deploymentId}=${state}`);
    },
  };

  /** Per context, the states in landing order. */
  byContext(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const label of this.landed.filter((l) => l.startsWith('baton/'))) {
      const [context, state] = label.split('=') as [string, string];
      (out[context] ??= []).push(state);
    }
    return out;
  }
}

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

function setup(overrides: Partial<ReportDeps> = {}) {
  const host = new RecordingHost();
  const ledger = new MemoryReportLedger();
  const deps: ReportDeps = { host, ledger, log: quiet, defaultEnvironment: 'prod', waitForInflightMs: 2000, ...overrides };
  return { host, ledger, deps };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

/** A fixed shuffle (so a failure reproduces). */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const EXPECTED_HAPPY = {
  'baton/intake': ['success'],
  'baton/mirror': ['pending', 'success'],
  'baton/build': ['pending', 'success'],
  'baton/approval': ['pending', 'success'],
  'baton/chart': ['pending', 'success'],
  'baton/deploy': ['pending', 'success'],
};

/** No context ever goes back from an ended state to an open one. */
function expectNeverBackwards(host: RecordingHost): void {
  for (const [context, sequence] of Object.entries(host.byContext())) {
    const firstEnded = sequence.findIndex((state) => state !== 'pending');
    if (firstEnded >= 0) expect({ context, after: sequence.slice(firstEnded).filter((state) => state === 'pending') }).toEqual({ context, after: [] });
  }
}

describe('reportRun', () => {
  const snapshots = timeline(happySteps, {}, { status: 'succeeded' }).map(deepFreeze);

  test('a whole run: every transition sent once, in order, and the snapshots are never changed', async () => {
    const { host, deps } = setup();
    for (const snapshot of snapshots) await reportRun(snapshot, deps);
    expect(host.byContext()).toEqual(EXPECTED_HAPPY);
    const id = host.created[0]!.id;
    expect(host.landed.filter((label) => !label.startsWith('baton/'))).toEqual(['create:prod', `deployment#${id}=queued`, `deployment#${id}=in_progress`, `deployment#${id}=success`]);
  });

  test('every bus message delivered twice sends nothing twice', async () => {
    const once = setup();
    for (const snapshot of snapshots) await reportRun(snapshot, once.deps);
    const twice = setup();
    for (const snapshot of snapshots) {
      await reportRun(snapshot, twice.deps);
      await reportRun(snapshot, twice.deps);
    }
    expect(twice.host.landed).toEqual(once.host.landed);
  });

  test.each([1, 7, 42, 2026])('reordered messages (shuffle %i) never send a status backwards', async (seed) => {
    const { host, deps } = setup();
    for (const snapshot of shuffled([...snapshots, ...snapshots], seed)) await reportRun(snapshot, deps);
    expectNeverBackwards(host);
    for (const [context, sequence] of Object.entries(host.byContext())) expect({ context, last: sequence.at(-1) }).toEqual({ context, last: 'success' });
    expect(new Set(host.landed).size).toBe(host.landed.length);
  });

  test('newest first: the final snapshot reports everything, the older ones nothing', async () => {
    const { host, deps } = setup();
    for (const snapshot of [...snapshots].reverse()) await reportRun(snapshot, deps);
    expect(host.byContext()).toEqual(Object.fromEntries(Object.keys(EXPECTED_HAPPY).map((context) => [context, ['success']])));
  });

  test('racing deliveries: a slow pending in flight lands before the success that overtook it', async () => {
    const { host, deps } = setup();
    host.delayMs = (label) => (label.endsWith('=pending') ? 150 : 0);
    const building = snapshots[3]!; // build running
    const built = snapshots[4]!; // build succeeded
    await Promise.all([reportRun(building, deps), new Promise((resolve) => setTimeout(resolve, 20)).then(() => reportRun(built, deps))]);
    expect(host.byContext()['baton/build']).toEqual(['pending', 'success']);
    expectNeverBackwards(host);
  });

  test('a transient failure is thrown after the other reports, and the retry sends exactly what is missing', async () => {
    const { host, deps } = setup();
    const building = snapshots[3]!;
    host.failures.push({ pattern: /^baton\/mirror=success$/, error: new TransientGitHostError('failed to set commit status: HTTP 502 Bad Gateway', 502) });
    await expect(reportRun(building, deps)).rejects.toThrow(TransientGitHostError);
    expect(host.landed).toEqual(['baton/intake=success', 'baton/build=pending']);
    await reportRun(building, deps);
    await reportRun(building, deps);
    expect(host.landed).toEqual(['baton/intake=success', 'baton/build=pending', 'baton/mirror=success']);
  });

  test('a permanent refusal is logged, not retried, and does not fail the event', async () => {
    const warnings: string[] = [];
    const { host, deps } = setup({ log: { ...quiet, warn: (message) => warnings.push(message) } });
    host.failures.push({ pattern: /^baton\/intake=success$/, error: new PermanentGitHostError('failed to set commit status: HTTP 404 Not Found', 404) });
    const summary = await reportRun(snapshots[0]!, deps);
    expect(summary).toEqual({ sent: [], refused: ['baton/intake=success'] });
    await reportRun(snapshots[0]!, deps);
    expect(host.landed).toEqual([]);
    expect(warnings).toEqual(['git host refused a report; not retried']);
  });

  test('a send that died mid-flight is taken over once its lease ran out, and never repeated', async () => {
    let clock = 1_000_000;
    const { host, ledger, deps } = setup({ now: () => clock, inflightLeaseMs: 60_000, waitForInflightMs: 0 });
    // A crashed worker: it claimed intake=success and marked it in flight, then died.
    await ledger.update('git-report:status:shop-7-a84d88e:baton/intake', () => ({ rank: -1, inflight: { state: 'success', rank: 1, at: clock, previousRank: -1 } }));
    await ledger.claim('git-status:shop-7-a84d88e:baton/intake:success');
    await expect(reportRun(snapshots[3]!, deps)).resolves.toBeDefined(); // intake: higher rank in flight, so nothing to do yet
    clock += 61_000;
    await reportRun(snapshots[3]!, deps);
    expect(host.landed.filter((label) => label.startsWith('baton/intake'))).toEqual([]); // the claim says the call was made
    expect(host.landed).toEqual(['baton/mirror=success', 'baton/build=pending']);
  });

  test('a run on GitLab is not sent to a GitHub host', async () => {
    const { host, deps } = setup();
    await reportRun({ ...snapshots[0]!, provider: 'gitlab' } as RunSnapshot, deps);
    expect(host.landed).toEqual([]);
  });
});

describe('deployments replace each other', () => {
  const runA = timeline(happySteps, { runId: 'shop-7-aaaaaaa' }, { status: 'succeeded' });
  const runB = timeline(happySteps, { runId: 'shop-8-bbbbbbb', after: 'b'.repeat(40) }, { status: 'succeeded' });

  test('the second run to deploy an environment marks the first one inactive', async () => {
    const { host, deps } = setup();
    for (const snapshot of runA) await reportRun(snapshot, deps);
    for (const snapshot of runB) await reportRun(snapshot, deps);
    const [a, b] = host.created;
    expect(host.landed.filter((label) => label.startsWith('deployment#')).slice(-2)).toEqual([`deployment#${b!.id}=success`, `deployment#${a!.id}=inactive`]);
    // Late duplicates of run A change nothing.
    for (const snapshot of runA) await reportRun(snapshot, deps);
    expect(host.landed.filter((label) => label === `deployment#${a!.id}=success`)).toHaveLength(1);
  });

  test('an older run that succeeds after a newer one is retired at once, not made current', async () => {
    const { host, deps } = setup();
    await reportRun(runA[6]!, deps); // A approved: A's deployment is created first (lower id)
    for (const snapshot of runB) await reportRun(snapshot, deps);
    for (const snapshot of runA) await reportRun(snapshot, deps);
    const a = host.created.find((d) => d.runId === 'shop-7-aaaaaaa')!;
    const b = host.created.find((d) => d.runId === 'shop-8-bbbbbbb')!;
    const aStates = host.landed.filter((label) => label.startsWith(`deployment#${a.id}=`));
    expect(aStates).toEqual([`deployment#${a.id}=queued`, `deployment#${a.id}=in_progress`, `deployment#${a.id}=success`, `deployment#${a.id}=inactive`]);
    expect(host.landed.filter((label) => label === `deployment#${b.id}=inactive`)).toEqual([]);
  });

  test('a rejected run creates no deployment at all', async () => {
    const { host, deps } = setup();
    for (const snapshot of timeline([['build', 'succeeded'], ['approval', 'waiting'], ['approval', 'rejected']], {}, { status: 'rejected' })) await reportRun(snapshot, deps);
    expect(host.created).toEqual([]);
    expect(host.byContext()['baton/approval']).toEqual(['pending', 'failure']);
  });
});
