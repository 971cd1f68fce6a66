import { redact } from '../../shared/log/redact.js';
import type { CommitState, DeploymentState, DesiredDeployment, DesiredStatus, RunSnapshot, RunStatus, StageSnapshot, StageStatus } from './types.js';

/**
 * From a run's ledger record to what its git host should show: one commit status per stage
 * (`baton/<stage>`), and one deployment per environment. Pure: the reporter decides what is
 * still to be sent.
 *
 * How ledger states map to GitHub's four commit states, and why:
 * - running, waiting → `pending`.
 * - succeeded → `success`.
 * - skipped → `success`, described "skipped: …". A required status check that never arrives
 *   blocks a pull request forever, and GitHub Actions itself lets a skipped job pass a required
 *   check; not reporting a skipped stage would also leave its context from an earlier run (or
 *   none) in the list, which reads as "still to come".
 * - failed, rejected, rolled-back → `failure`. GitHub defines `failure` as "the check ran and
 *   the change did not pass" and `error` as "the check could not complete" (Jenkins' GitHub
 *   plugin and Argo CD's notification catalog use them the same way: a failed sync or a degraded
 *   app is a failure of the change). A rejection is a person judging the change not good to
 *   ship, which is a verdict on the change: `failure`.
 * - expired, superseded, canceled → `error`. Nobody judged the change: the approval ran out of
 *   time, a newer run replaced this one, or someone stopped it with `baton cancel` (Kargo
 *   likewise tells an `Errored`/`Aborted` promotion from a `Failed` one, and Jenkins' GitHub
 *   plugin reports an aborted build as `error`). GitLab, which has `canceled`, gets that for
 *   superseded and canceled.
 * - a stage still open when the run ended (the reconciler failed a run past its limit, say) →
 *   `error` with the run's reason, so nothing stays pending for ever; `success` if the run
 *   succeeded.
 */

const OPEN: ReadonlySet<StageStatus> = new Set(['running', 'waiting']);

const COMMIT_STATE: Record<StageStatus, CommitState> = {
  running: 'pending',
  waiting: 'pending',
  succeeded: 'success',
  skipped: 'success',
  failed: 'failure',
  rejected: 'failure',
  'rolled-back': 'failure',
  expired: 'error',
  superseded: 'error',
  canceled: 'error',
};

const VERB: Record<StageStatus, string> = {
  running: 'running',
  waiting: 'waiting',
  succeeded: 'succeeded',
  skipped: 'skipped',
  failed: 'failed',
  rejected: 'rejected',
  'rolled-back': 'rolled back',
  expired: 'expired',
  superseded: 'superseded by a newer run',
  canceled: 'canceled',
};

/** GitHub's limit for a status or deployment status description is 140 characters. */
export const MAX_DESCRIPTION = 139;

/** One short line: whitespace collapsed, credentials masked, cut at 139 characters with "…". */
export function oneLine(text: string): string {
  const line = redact(text).replace(/\s+/g, ' ').trim();
  return line.length <= MAX_DESCRIPTION ? line : `${line.slice(0, MAX_DESCRIPTION - 1).trimEnd()}…`;
}

function duration(stage: StageSnapshot): string {
  if (!stage.endedAt) return '';
  const ms = Date.parse(stage.endedAt) - Date.parse(stage.startedAt);
  if (!Number.isFinite(ms) || ms < 0) return '';
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return ` in ${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? ` in ${minutes}m ${seconds % 60}s` : ` in ${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

/** Fills `{runId}`, `{pipeline}` and `{stage}` in a run-page URL template. */
export function fillTargetUrl(template: string | undefined, run: Pick<RunSnapshot, 'runId' | 'pipeline'>, stage: string): string | undefined {
  if (!template) return undefined;
  return template.replace(/\{(runId|pipeline|stage)\}/g, (_, name: 'runId' | 'pipeline' | 'stage') =>
    encodeURIComponent(name === 'stage' ? stage : run[name]),
  );
}

/** Stages in the order they started (ties by name), so reports go out in run order. */
function stagesInOrder(run: RunSnapshot): Array<[string, StageSnapshot]> {
  return Object.entries(run.stages).sort(([a, x], [b, y]) => x.startedAt.localeCompare(y.startedAt) || a.localeCompare(b));
}

/** The stage status to report for a stage: its own, or the run's when the run ended around it. */
function effectiveStatus(run: RunSnapshot, stage: StageSnapshot): { status: StageStatus; closedByRun: boolean } {
  if (!OPEN.has(stage.status) || run.status === 'running') return { status: stage.status, closedByRun: false };
  return { status: run.status, closedByRun: true };
}

export function desiredStatuses(run: RunSnapshot, options: { targetUrl?: string } = {}): DesiredStatus[] {
  return stagesInOrder(run).map(([name, stage]) => {
    const { status, closedByRun } = effectiveStatus(run, stage);
    const state: CommitState = closedByRun ? (status === 'succeeded' ? 'success' : 'error') : COMMIT_STATE[status];
    const text = closedByRun
      ? `not finished: run ${VERB[status]}${run.reason ? `: ${run.reason}` : ''}`
      : `${VERB[status]}${duration(stage)}${stage.detail ? `: ${stage.detail}` : ''}`;
    const targetUrl = fillTargetUrl(options.targetUrl, run, name);
    return {
      context: `baton/${name}`,
      stage: name,
      state,
      description: oneLine(text),
      ...(targetUrl ? { targetUrl } : {}),
      stageStatus: status,
      rank: OPEN.has(status) ? 0 : status === 'rolled-back' ? 2 : 1,
    };
  });
}

/**
 * The environments a run deploys to, in order: `options.environments` when the caller knows
 * them (the environments config, once it lands), then every `deploy:<env>` stage, and a plain
 * `deploy` stage as `defaultEnvironment`. With none of these, the pipeline's single environment.
 */
export function environmentsOf(run: RunSnapshot, options: { defaultEnvironment: string; environments?: readonly string[] }): string[] {
  const found = new Set<string>(options.environments ?? []);
  for (const [name] of stagesInOrder(run)) {
    if (name.startsWith('deploy:')) found.add(name.slice('deploy:'.length));
    else if (name === 'deploy') found.add(options.defaultEnvironment);
  }
  if (found.size === 0) found.add(options.defaultEnvironment);
  return [...found];
}

function stageFor(run: RunSnapshot, kind: 'deploy' | 'verify' | 'approval', environment: string, defaultEnvironment: string): StageSnapshot | undefined {
  return run.stages[`${kind}:${environment}`] ?? (environment === defaultEnvironment ? run.stages[kind] : undefined);
}

/** A run is cleared for an environment once its approval (for that environment, or the run's) succeeded. */
function clearedFor(run: RunSnapshot, environment: string): boolean {
  const own = run.stages[`approval:${environment}`];
  if (own) return own.status === 'succeeded';
  const approval = run.stages.approval;
  if (approval) return approval.status === 'succeeded';
  // No approval stage at all: cleared once the run gets past its builds to the chart.
  return Boolean(run.stages.chart) || Object.keys(run.stages).some((name) => name === 'deploy' || name.startsWith('deploy:'));
}

const DEPLOYMENT_RANK: Record<DeploymentState, number> = { queued: 0, in_progress: 1, success: 2, failure: 2, error: 2, inactive: 4 };

function deployment(environment: string, state: DeploymentState, text: string, rank = DEPLOYMENT_RANK[state]): DesiredDeployment {
  return { environment, state, description: oneLine(text), rank, create: state !== 'error' && state !== 'inactive' };
}

/**
 * One deployment per environment: `queued` once the run is cleared to deploy there,
 * `in_progress` while its deploy (or verify) stage runs, then `success` or `failure` (`error`
 * when it expired, was canceled or the run ended first), and `inactive` when a newer run superseded it or its
 * deploy was skipped. The reporter marks the release it replaced `inactive` on `success`.
 */
export function desiredDeployments(run: RunSnapshot, options: { defaultEnvironment: string; environments?: readonly string[] }): DesiredDeployment[] {
  const out: DesiredDeployment[] = [];
  const ended = run.status !== 'running';
  for (const environment of environmentsOf(run, options)) {
    const deploy = stageFor(run, 'deploy', environment, options.defaultEnvironment);
    const verify = stageFor(run, 'verify', environment, options.defaultEnvironment);
    if (!deploy) {
      if (!clearedFor(run, environment)) continue;
      if (!ended) out.push(deployment(environment, 'queued', `queued: run ${run.runId}`));
      else out.push(deployment(environment, run.status === 'superseded' ? 'inactive' : 'error', `not deployed: run ${VERB[run.status as StageStatus] ?? run.status}${run.reason ? `: ${run.reason}` : ''}`));
      continue;
    }
    out.push(fromStages(run, environment, deploy, verify, ended));
  }
  return out;
}

function fromStages(run: RunSnapshot, environment: string, deploy: StageSnapshot, verify: StageSnapshot | undefined, ended: boolean): DesiredDeployment {
  const detail = (stage: StageSnapshot) => (stage.detail ? `: ${stage.detail}` : '');
  const runEnded = (status: RunStatus) => `not finished: run ${VERB[status as StageStatus] ?? status}${run.reason ? `: ${run.reason}` : ''}`;
  switch (deploy.status) {
    case 'waiting':
      return ended ? deployment(environment, 'error', runEnded(run.status)) : deployment(environment, 'queued', `queued${detail(deploy)}`);
    case 'running':
      return ended ? deployment(environment, 'error', runEnded(run.status)) : deployment(environment, 'in_progress', `deploying${detail(deploy)}`);
    case 'succeeded': {
      if (!verify || verify.status === 'succeeded' || verify.status === 'skipped') return deployment(environment, 'success', `deployed${duration(deploy)}${detail(deploy)}`);
      if (OPEN.has(verify.status)) {
        return ended ? deployment(environment, 'error', runEnded(run.status)) : deployment(environment, 'in_progress', `verifying${detail(verify)}`);
      }
      // The deploy may already have been reported a success before verify started: a failure
      // after it ranks above it, so it is still sent.
      if (verify.status === 'superseded') return deployment(environment, 'inactive', `superseded by a newer run`);
      if (verify.status === 'expired' || verify.status === 'canceled') return deployment(environment, 'error', `verify ${VERB[verify.status]}${detail(verify)}`, 3);
      return deployment(environment, 'failure', `verify ${VERB[verify.status]}${detail(verify)}`, 3);
    }
    case 'rolled-back':
      return deployment(environment, 'failure', `rolled back${detail(deploy)}`, 3);
    case 'skipped':
      return deployment(environment, 'inactive', `skipped${detail(deploy)}`);
    case 'superseded':
      return deployment(environment, 'inactive', 'superseded by a newer run');
    case 'expired':
    case 'canceled':
      return deployment(environment, 'error', `${VERB[deploy.status]}${detail(deploy)}`);
    case 'failed':
    case 'rejected':
      return deployment(environment, 'failure', `${VERB[deploy.status]}${detail(deploy)}`);
  }
}
