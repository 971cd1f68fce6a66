import { desiredDeployments, desiredStatuses, fillTargetUrl } from './mapping.js';
import { PermanentGitHostError, TransientGitHostError } from './types.js';
import type { DesiredDeployment, DesiredStatus, GitHost, ReportLedger, ReportLog, RunSnapshot } from './types.js';

/**
 * Reports one run to its git host: called by the gitStatus stage on every run event, with the
 * run as the ledger holds it now. It works out the statuses and deployments the host should
 * show (`mapping.ts`) and sends what is still missing, each transition once.
 *
 * Once-only and never backwards, through the ledger (`ReportLedger`, see types.ts):
 * 1. Order fence. Per (run, context) the ledger keeps `{ rank, inflight? }`: the highest rank
 *    sent, and the send in flight. A state is sent only if its rank is above `rank`. A send of a
 *    higher rank waits for a lower one in flight to land (up to `waitForInflightMs`, then a
 *    transient error so the bus retries), and a lower one gives way to a higher one in flight.
 *    This is what keeps a `pending` read from an older snapshot from landing after `success`
 *    even when two deliveries race: the host sees the calls of one context one at a time, in
 *    rank order. A send in flight for longer than `inflightLeaseMs` is taken to have died.
 * 2. Once-only claim. Inside the fence the reporter claims
 *    `git-status:<runId>:<context>:<state>` (deployments: `git-deployment:<runId>:<env>:<state>`)
 *    before the call. A taken key means the call was already made: nothing is sent. A transient
 *    failure gives the key back (`release`) and lowers the fence again, so the bus's retry sends
 *    it; a permanent one (a 4xx) keeps both: it is logged, not retried.
 *
 * Deployments: the first state sent for an environment creates the deployment (`POST
 * …/deployments`, its id kept in the same ledger record) and then sets its status, so that one
 * transition costs two calls; every later transition costs one. On `success` the reporter moves
 * the (repository, environment) pointer to the new deployment, atomically and only forwards (by
 * deployment id, which the host hands out in increasing order), and marks the deployment it
 * replaced `inactive`; if a newer deployment already holds the pointer, the new one is marked
 * `inactive` instead. If the process dies between the success and the pointer move, the replaced
 * release stays active on the host (GitHub's own `auto_inactive` still retires it for
 * non-production environments).
 *
 * A git host that is down never touches the run: `reportRun` only reads the snapshot, and a
 * transient failure (after the client's own retries and rate-limit waits) ends in one
 * `TransientGitHostError`, thrown after every other report was tried, so the stage's event is
 * redelivered and finally dead-lettered.
 */
export type ReportDeps = {
  host: GitHost;
  ledger: ReportLedger;
  log: ReportLog;
  /** Run page template for `target_url` (`BATON_RUN_URL`, or the Jenkins run): `{runId}`, `{pipeline}`, `{stage}`. */
  targetUrl?: string;
  /** The environment a plain `deploy` stage deploys to (the pipeline's single environment). */
  defaultEnvironment: string;
  /** The run's environments in order, once the environments config knows them. */
  environments?: readonly string[];
  now?: () => number;
  /** After this long a send still marked in flight is taken to have died. Default 60 s. */
  inflightLeaseMs?: number;
  /** How long a higher-rank send waits in-process for a lower one to land. Default 2 s. */
  waitForInflightMs?: number;
};

export type ReportSummary = {
  /** `context=state` (statuses) and `deployment:<env>=state`, in the order sent. */
  sent: string[];
  /** Refused by the host for good (logged). */
  refused: string[];
};

type FenceRecord = {
  rank: number;
  inflight?: { state: string; rank: number; at: number; previousRank: number };
  deploymentId?: number;
};

type PointerRecord = { deploymentId: number; runId: string };

type Outcome = 'sent' | 'already' | 'stale' | 'refused' | 'nothing';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function reportRun(run: RunSnapshot, deps: ReportDeps): Promise<ReportSummary> {
  const summary: ReportSummary = { sent: [], refused: [] };
  if (run.provider !== deps.host.provider) {
    deps.log.warn('run is on another git host than the reporter; not reported', { runId: run.runId, provider: run.provider });
    return summary;
  }
  const reporter = new Reporter(run, deps, summary);
  const transient: Error[] = [];
  const attempt = async (work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      if (error instanceof TransientGitHostError) transient.push(error);
      else throw error;
    }
  };

  for (const status of desiredStatuses(run, { targetUrl: deps.targetUrl })) await attempt(() => reporter.status(status));
  if (deps.host.deployments) {
    for (const wanted of desiredDeployments(run, { defaultEnvironment: deps.defaultEnvironment, environments: deps.environments })) {
      await attempt(() => reporter.deployment(wanted));
    }
  }
  if (transient.length) {
    throw new TransientGitHostError(`failed to report ${transient.length} state(s) of run ${run.runId}: ${transient[0]!.message}`, (transient[0] as TransientGitHostError).status);
  }
  return summary;
}

class Reporter {
  private readonly now: () => number;
  private readonly lease: number;
  private readonly wait: number;

  constructor(
    private readonly run: RunSnapshot,
    private readonly deps: ReportDeps,
    private readonly summary: ReportSummary,
  ) {
    this.now = deps.now ?? Date.now;
    this.lease = deps.inflightLeaseMs ?? 60_000;
    this.wait = deps.waitForInflightMs ?? 2_000;
  }

  async status(status: DesiredStatus): Promise<void> {
    const { run, deps } = this;
    const outcome = await this.ordered(`git-report:status:${run.runId}:${status.context}`, status.state, status.rank, `git-status:${run.runId}:${status.context}:${status.state}`, () =>
      deps.host.setStatus(run.repository, run.after, status),
    );
    this.record(outcome, `${status.context}=${status.state}`);
  }

  async deployment(wanted: DesiredDeployment): Promise<void> {
    const { run } = this;
    const outcome = await this.deploymentState(run.runId, wanted);
    this.record(outcome, `deployment:${wanted.environment}=${wanted.state}`);
    if (outcome === 'sent' && wanted.state === 'success') await this.retirePrevious(wanted.environment);
  }

  private record(outcome: Outcome, label: string): void {
    if (outcome === 'sent') this.summary.sent.push(label);
    else if (outcome === 'refused') this.summary.refused.push(label);
  }

  /** Sends a deployment state for `runId` (this run, or the one whose release was replaced). */
  private deploymentState(runId: string, wanted: DesiredDeployment): Promise<Outcome> {
    const { run, deps } = this;
    const deployments = deps.host.deployments!;
    const fenceKey = `git-report:deployment:${runId}:${wanted.environment}`;
    return this.ordered(
      fenceKey,
      wanted.state,
      wanted.rank,
      `git-deployment:${runId}:${wanted.environment}:${wanted.state}`,
      async (record) => {
        let id = record?.deploymentId;
        if (id === undefined) {
          const created = await deployments.create(run.repository, run.after, wanted.environment, { runId, pipeline: run.pipeline, description: wanted.description });
          id = created.id;
          const deploymentId = id;
          await deps.ledger.update<FenceRecord>(fenceKey, (current) => ({ ...(current ?? { rank: -1 }), deploymentId }));
          deps.log.info('created deployment', { runId, environment: wanted.environment, deploymentId });
        }
        const logUrl = fillTargetUrl(deps.targetUrl, { runId, pipeline: run.pipeline }, `deploy:${wanted.environment}`);
        await deployments.setState(run.repository, id, wanted.state, { environment: wanted.environment, description: wanted.description, ...(logUrl ? { logUrl } : {}) });
      },
      (record) => wanted.create || record?.deploymentId !== undefined,
    );
  }

  /** After a success: move the environment's pointer forwards and retire whichever release lost. */
  private async retirePrevious(environment: string): Promise<void> {
    const { run, deps } = this;
    const mine = await deps.ledger.update<FenceRecord>(`git-report:deployment:${run.runId}:${environment}`, () => undefined);
    const deploymentId = mine.value?.deploymentId;
    if (deploymentId === undefined) return;
    let previous: PointerRecord | undefined;
    const moved = await deps.ledger.update<PointerRecord>(`git-report:current:${run.repository}:${environment}`, (current) => {
      previous = current;
      if (current && current.deploymentId >= deploymentId) return undefined;
      return { deploymentId, runId: run.runId };
    });
    // Moved: the release it replaced loses. Not moved: a newer deployment holds the
    // environment, so this one loses (unless the pointer is this one already: a retry).
    const loser = moved.changed ? previous : previous?.deploymentId === deploymentId ? undefined : { deploymentId, runId: run.runId };
    if (!loser || (moved.changed && loser.runId === run.runId)) return;
    const description = moved.changed ? `replaced by run ${run.runId}` : `replaced by a newer deployment`;
    const outcome = await this.deploymentState(loser.runId, { environment, state: 'inactive', description, rank: 4, create: false });
    this.record(outcome, `deployment:${environment}@${loser.runId}=inactive`);
  }

  /**
   * The fence and claim protocol of the file header around one call. `mayCreate` decides, from
   * the record, whether the state may be sent at all (a deployment that does not exist is never
   * created just to be closed).
   */
  private async ordered(
    fenceKey: string,
    state: string,
    rank: number,
    claimKey: string,
    send: (record: FenceRecord | undefined) => Promise<void>,
    mayCreate: (record: FenceRecord | undefined) => boolean = () => true,
  ): Promise<Outcome> {
    const { deps } = this;
    const deadline = this.now() + this.wait;
    let record: FenceRecord | undefined;
    for (;;) {
      let verdict = 'go' as 'go' | 'stale' | 'busy' | 'nothing';
      const at = this.now();
      const fenced = await deps.ledger.update<FenceRecord>(fenceKey, (current) => {
        record = current;
        const sentRank = current?.rank ?? -1;
        if (sentRank >= rank) {
          verdict = 'stale';
          return undefined;
        }
        const inflight = current?.inflight;
        if (inflight && at - inflight.at < this.lease) {
          verdict = inflight.rank >= rank ? 'stale' : 'busy';
          return undefined;
        }
        if (!mayCreate(current)) {
          verdict = 'nothing';
          return undefined;
        }
        verdict = 'go';
        return { ...(current ?? {}), rank: sentRank, inflight: { state, rank, at, previousRank: sentRank } };
      });
      record = fenced.value ?? record;
      if (verdict === 'stale') return 'stale';
      if (verdict === 'nothing') return 'nothing';
      if (verdict === 'go') break;
      if (this.now() >= deadline) throw new TransientGitHostError(`another report of ${fenceKey} is still in flight`);
      await sleep(Math.min(100, Math.max(10, this.wait / 10)));
    }

    const land = (newRank: (current: FenceRecord) => number) =>
      deps.ledger.update<FenceRecord>(fenceKey, (current) => {
        if (!current || current.inflight?.state !== state) return undefined;
        const { inflight: _inflight, ...rest } = current;
        return { ...rest, rank: newRank(current) };
      });

    if (!(await deps.ledger.claim(claimKey))) {
      // Claimed earlier by a send that died before it could land: the call was made.
      await land(() => rank);
      return 'already';
    }
    try {
      await send(record);
    } catch (error) {
      if (error instanceof PermanentGitHostError) {
        await land(() => rank);
        deps.log.warn('git host refused a report; not retried', { runId: this.run.runId, key: claimKey, status: error.status, error: error.message });
        return 'refused';
      }
      await land((current) => current.inflight?.previousRank ?? current.rank);
      await deps.ledger.release(claimKey);
      throw error instanceof TransientGitHostError ? error : new TransientGitHostError(`failed to report ${claimKey}: ${error instanceof Error ? error.message : String(error)}`);
    }
    await land(() => rank);
    deps.log.info('reported to git host', { runId: this.run.runId, key: claimKey });
    return 'sent';
  }
}
