import { createHash } from 'node:crypto';
import type { DeploymentStatus } from '../../shared/ledger/environments.js';

/**
 * Releases, promotion and rollback as pure functions over small records (issue #15). Nothing
 * here reads the ledger, git or the clock: the stages pass the state in and act on the answer.
 *
 * - A **release** is what an environment runs: service → digest. A run's release is the
 *   digests it built plus, for every service it did not build, the digest of the previous
 *   release (`nextRelease`). Promotion moves that same release, never a rebuild.
 * - **Promotion** goes through the environments in order (`promotionPlan`): `auto` ones as
 *   soon as the previous one succeeded, `approval` ones after an approval bound to this
 *   release (by `releaseKey`) and this environment. A held environment is never moved by
 *   automation, and a run never moves an environment that a newer run already deployed to.
 * - **History** is one record per deployment of an environment (`HistoryEntry`); a rollback
 *   is a deployment too. `rollbackTarget` picks what to go back to.
 */
export type Release = Record<string, string>;

export type BuiltImage = { service: string; digest: string; repository: string; tag: string };

const DIGEST = /^sha256:[0-9a-f]{64}$/;

function sorted(release: Readonly<Release>): Release {
  return Object.fromEntries(Object.entries(release).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The run's release: `previous` with every built service replaced by its new digest. */
export function nextRelease(previous: Readonly<Release> | undefined, built: readonly BuiltImage[]): Release {
  const release: Release = { ...previous };
  const seen = new Map<string, string>();
  for (const image of built) {
    if (!DIGEST.test(image.digest)) throw new Error(`failed to make a release: ${image.service} has malformed digest "${image.digest}" (expected sha256:<64 hex>)`);
    const other = seen.get(image.service);
    if (other && other !== image.digest) throw new Error(`failed to make a release: ${image.service} was built twice with different digests (${other}, ${image.digest})`);
    seen.set(image.service, image.digest);
    release[image.service] = image.digest;
  }
  return sorted(release);
}

/** A stable id of a release's content (`sha256:` of its sorted `service@digest` lines): what an approval is bound to. */
export function releaseKey(release: Readonly<Release>): string {
  const lines = Object.entries(sorted(release)).map(([service, digest]) => `${service}@${digest}\n`);
  return `sha256:${createHash('sha256').update(lines.join('')).digest('hex')}`;
}

export function sameRelease(a: Readonly<Release>, b: Readonly<Release>): boolean {
  return releaseKey(a) === releaseKey(b);
}

export type ReleaseChange = { service: string; from?: string; to?: string };

/** Services whose digest differs between two releases (added, removed or changed), by name. */
export function releaseChanges(from: Readonly<Release>, to: Readonly<Release>): ReleaseChange[] {
  const services = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
  return services.filter((service) => from[service] !== to[service]).map((service) => ({ service, ...(from[service] ? { from: from[service] } : {}), ...(to[service] ? { to: to[service] } : {}) }));
}

// ---------------------------------------------------------------------------------------------
// Promotion

/** The fixed per-environment status of a run's `--json` summary. */
export type EnvironmentStatus = 'succeeded' | 'rolled-back' | 'failed' | 'held' | 'skipped' | 'pending';

/** Where a run is with one environment; finer than the summary's status while it is under way. */
export type EnvironmentPhase = 'pending' | 'awaiting-approval' | 'deploying' | 'verifying' | 'succeeded' | 'rolled-back' | 'failed' | 'skipped';

export type PromotionEnvironment = { name: string; promotion: 'auto' | 'approval' };

export type PromotionState = {
  /** The run's release. */
  release: Readonly<Release>;
  /** This run's phase per environment; a missing one is `pending`. */
  phases: Readonly<Partial<Record<string, EnvironmentPhase>>>;
  /** Environments on hold (`baton hold`). */
  held: readonly string[];
  /** Approvals granted, each bound to one environment and one release (`releaseKey`). */
  approvals: ReadonlyArray<{ environment: string; releaseKey: string }>;
};

export type PromotionStep =
  /** Deploy the release to `environment` now. */
  | { action: 'deploy'; environment: string; promotion: 'auto' | 'approval' }
  /** Ask for an approval bound to this release and `environment`, then wait. */
  | { action: 'request-approval'; environment: string; releaseKey: string }
  /** Nothing to do until something changes (`baton release`, an approval, the deploy or verification ending). */
  | { action: 'wait'; environment: string; reason: 'held' | 'awaiting-approval' | 'deploying' | 'verifying' }
  /** Promotion of this run ends at `environment`; mark the environments in `skip` as `skipped`. */
  | { action: 'stop'; environment: string; reason: 'rolled-back' | 'failed' | 'skipped'; skip: string[] }
  /** Every environment succeeded. */
  | { action: 'done' };

/**
 * What the run should do next. Environments are taken in order; the first that has not
 * succeeded decides. Automation never moves a held environment (the plan waits there, and
 * the summary shows it `held`). A rolled-back or failed environment ends the promotion: the
 * next one is not promoted. Never moving an environment backwards is not decided here but by
 * chartBump, per service: it claims each service of the release in the environment, and a
 * service that a newer build already holds there is superseded. A whole-run rule here would be
 * coarser: a newer run that built another service does not make this run's change old.
 */
export function promotionPlan(environments: readonly PromotionEnvironment[], state: PromotionState): PromotionStep {
  const key = releaseKey(state.release);
  for (const [index, environment] of environments.entries()) {
    const phase = state.phases[environment.name] ?? 'pending';
    const later = environments.slice(index + 1).map((next) => next.name);
    switch (phase) {
      case 'succeeded':
        continue;
      case 'rolled-back':
      case 'failed':
      case 'skipped':
        return { action: 'stop', environment: environment.name, reason: phase, skip: later };
      case 'deploying':
      case 'verifying':
        return { action: 'wait', environment: environment.name, reason: phase };
      case 'pending':
      case 'awaiting-approval': {
        if (state.held.includes(environment.name)) return { action: 'wait', environment: environment.name, reason: 'held' };
        if (environment.promotion === 'auto') return { action: 'deploy', environment: environment.name, promotion: 'auto' };
        const approved = state.approvals.some((approval) => approval.environment === environment.name && approval.releaseKey === key);
        if (approved) return { action: 'deploy', environment: environment.name, promotion: 'approval' };
        if (phase === 'awaiting-approval') return { action: 'wait', environment: environment.name, reason: 'awaiting-approval' };
        return { action: 'request-approval', environment: environment.name, releaseKey: key };
      }
    }
  }
  return { action: 'done' };
}

/** The summary status of one environment: in-flight phases read `pending`, or `held` while a hold keeps them waiting. */
export function environmentStatus(phase: EnvironmentPhase | undefined, held: boolean): EnvironmentStatus {
  switch (phase ?? 'pending') {
    case 'succeeded':
      return 'succeeded';
    case 'rolled-back':
      return 'rolled-back';
    case 'failed':
      return 'failed';
    case 'skipped':
      return 'skipped';
    case 'pending':
    case 'awaiting-approval':
      return held ? 'held' : 'pending';
    default:
      return 'pending';
  }
}

/**
 * May a person promote this run's release to `target` (`baton promote <runId> --to <env>`)?
 * Yes when every earlier environment succeeded for this run, the target has not been
 * deployed by it yet, and it is not held (`baton release` first); a newer build already there
 * supersedes the service at chartBump, as for an automatic promotion. When
 * it may, the CLI records an approval bound to the release and `target`, and `promotionPlan`
 * deploys it.
 */
export function manualPromotion(environments: readonly PromotionEnvironment[], state: PromotionState, target: string): { ok: true } | { ok: false; reason: string } {
  const index = environments.findIndex((environment) => environment.name === target);
  if (index < 0) return { ok: false, reason: `no environment "${target}"; the pipeline has ${environments.map((environment) => environment.name).join(', ')}` };
  for (const earlier of environments.slice(0, index)) {
    const phase = state.phases[earlier.name] ?? 'pending';
    if (phase !== 'succeeded') return { ok: false, reason: `${earlier.name} comes first and has not succeeded for this run (${phase})` };
  }
  const phase = state.phases[target] ?? 'pending';
  if (phase !== 'pending' && phase !== 'awaiting-approval') return { ok: false, reason: `${target} is already ${phase} for this run` };
  if (state.held.includes(target)) return { ok: false, reason: `${target} is held; run baton release ${target} first` };
  return { ok: true };
}

// ---------------------------------------------------------------------------------------------
// History and rollback

/** One deployment of an environment: a promotion of a run's release, or a rollback to an earlier run's release. */
export type HistoryEntry = {
  environment: string;
  /** The run whose release this is (for a rollback: the run rolled back to). */
  runId: string;
  /** The run's order in its pipeline (`RunOrder`, ordered as strings), when known; orders runs for supersession. */
  order?: string;
  release: Release;
  /** ISO-8601 time the deployment started. */
  at: string;
  /** `in-progress` while deploying or verifying; `rolled-back` when its verification failed and it was rolled back; `superseded` when a newer release took over before it ran; `canceled` when its run was canceled first (see `DeploymentStatus`). */
  status: DeploymentStatus;
  /** Default `promotion`. */
  kind?: 'promotion' | 'rollback';
};

function historyOf(history: readonly HistoryEntry[], environment: string): HistoryEntry[] {
  return history
    .map((entry, index) => ({ entry, index }))
    .filter(({ entry }) => entry.environment === environment)
    .sort((a, b) => Date.parse(a.entry.at) - Date.parse(b.entry.at) || a.index - b.index)
    .map(({ entry }) => entry);
}

/** The latest deployment of an environment (whatever its status), or undefined when nothing was ever deployed there. */
export function currentDeployment(history: readonly HistoryEntry[], environment: string): HistoryEntry | undefined {
  return historyOf(history, environment).at(-1);
}

export type RollbackTarget = { ok: true; runId: string; release: Release; from: Release; changes: ReleaseChange[] } | { ok: false; reason: string };

/**
 * What a rollback of `environment` deploys: without `toRunId`, the newest earlier deployment
 * that succeeded there with a release different from the current one (so rolling back twice
 * goes back twice); with `toRunId`, that run's release, which must have succeeded there.
 */
export function rollbackTarget(history: readonly HistoryEntry[], environment: string, toRunId?: string): RollbackTarget {
  const entries = historyOf(history, environment);
  const current = entries.at(-1);
  if (!current) return { ok: false, reason: `nothing was ever deployed to ${environment}` };
  const answer = (target: HistoryEntry): RollbackTarget => ({ ok: true, runId: target.runId, release: target.release, from: current.release, changes: releaseChanges(current.release, target.release) });
  if (toRunId !== undefined) {
    const ofRun = entries.filter((entry) => entry.runId === toRunId);
    const target = ofRun.filter((entry) => entry.status === 'succeeded').at(-1);
    if (!target) {
      const last = ofRun.at(-1);
      return { ok: false, reason: last ? `run ${toRunId} never succeeded in ${environment} (its last deployment there: ${last.status})` : `run ${toRunId} was never deployed to ${environment}` };
    }
    if (current.status !== 'rolled-back' && current.status !== 'failed' && sameRelease(current.release, target.release)) return { ok: false, reason: `run ${toRunId}'s release is what ${environment} runs already` };
    return answer(target);
  }
  const target = entries
    .slice(0, -1)
    .filter((entry) => entry.status === 'succeeded' && !sameRelease(entry.release, current.release))
    .at(-1);
  if (!target) return { ok: false, reason: `no earlier release succeeded in ${environment}; there is nothing to roll back to` };
  return answer(target);
}
