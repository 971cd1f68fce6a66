import type { BatonConfig, Pipeline } from '../../shared/config/pipelineConfig.js';
import { findPipeline } from '../../shared/config/pipelineConfig.js';
import type { BuildFinished } from '../../shared/contracts/index.js';
import { IMPLICIT_ENVIRONMENT, isTerminal } from '../../shared/contracts/index.js';
import type { RunLedger, RunRecord } from '../../shared/ledger/runLedger.js';
import type { Logger } from '../../shared/log/logger.js';
import type { Delivery } from '../../shared/stage/declaration.js';
import type { Manifest } from '../../shared/stage/manifest.js';
import type { Outcome } from '../../shared/stage/outcome.js';
import { result } from '../../shared/stage/outcome.js';
import type { SlackApi } from '../../domain/approval/slackClient.js';
import { SYSTEM_DECIDER } from '../../domain/approval/decide.js';
import type { Environment } from '../../domain/environments/config.js';
import { environmentsOf } from '../../domain/environments/config.js';
import { outboxKey } from '../../domain/environments/keys.js';
import { environmentViews } from '../../domain/environments/phases.js';
import { promotionPlan, releaseKey } from '../../domain/environments/release.js';
import { releaseDigests, runRelease } from '../../domain/environments/runRelease.js';
import { reportFailure, requestApproval } from './request.js';
import { settleLeftDeployments } from './settle.js';

/**
 * promotion: the one place that decides where a run's release goes next (issue #15). It wakes
 * on every event after which that can change (the builds are done, an environment's deploy or
 * verification ended, a hold was lifted) and asks `promotionPlan` for the next step:
 * - an `auto` environment is promoted at once: an `approval-decided` by baton itself, the same
 *   event a person's approval sends, so chartBump has one trigger;
 * - an `approval` environment gets a Slack request bound to the release and the environment;
 * - a held environment is waited at, with the hold's reason on its first stage (`baton release`
 *   sends `promotion-requested` to come back here). The run waits rather than ends, as a Kargo
 *   stage holds freight: the reconciler's stuck-run limit still bounds the wait.
 * Every step is idempotent: the decision and the request are written once per environment.
 * When the run ends (`run-finished`), it settles the deployments the run left in progress.
 */
export type PromotionDeps = {
  ledger: RunLedger;
  config: BatonConfig;
  manifest: Manifest;
  /** `SLACK_CHANNEL` / `SLACK_APPROVERS`, the defaults for pipelines whose config sets none. */
  env: { SLACK_CHANNEL?: string; SLACK_APPROVERS?: string };
  /** Absent when Slack is not configured: the request is still recorded, and the CLI or Jenkins decides. */
  slack?: SlackApi;
  tokenSecrets: readonly string[];
  now: () => Date;
  log: Logger;
};

type Published = 'approval-requested' | 'approval-decided';
type Result = Outcome<Published>;
type Trigger = 'build-finished' | 'deploy-finished' | 'release-verified' | 'promotion-requested' | 'run-finished';

/** The identity of automatic promotions (`auto` environments). */
export const AUTO_PROMOTION = { ...SYSTEM_DECIDER, name: 'auto-promotion' } as const;

export async function handlePromotionEvent(delivery: Delivery<Trigger>, deps: PromotionDeps): Promise<Result> {
  const { event } = delivery;
  const log = deps.log.child({ stage: 'promotion', runId: event.runId, pipeline: event.pipeline });
  const run = await deps.ledger.getRun(event.runId);
  if (!run) return result.none(`${delivery.topic} for a run the ledger does not know`);
  const pipeline = findPipeline(deps.config, run.pipeline);
  switch (delivery.topic) {
    case 'build-finished':
      return buildsDone(delivery.event, run, pipeline, deps, log);
    case 'deploy-finished': {
      const environment = pipeline && environmentsOf(pipeline).find((candidate) => candidate.name === delivery.event.environment);
      // A verified environment moves on when its verification passes, not when it is deployed.
      if (environment?.verify) return result.none(`${delivery.event.environment} is verified before the next environment`);
      return next(run, pipeline, deps, log);
    }
    case 'release-verified':
      return delivery.event.verdict === 'passed' ? next(run, pipeline, deps, log) : result.none(`verification ${delivery.event.verdict} in ${delivery.event.environment}`);
    case 'promotion-requested':
      return next(run, pipeline, deps, log);
    case 'run-finished':
      return settleLeftDeployments(run, deps, log);
  }
}

/**
 * `build-finished`: buildStatus has recorded the build in the run before saying so, so the run
 * tells the whole story: every service succeeded → the release is fixed and promotion starts;
 * one failed → one failure message (the build stage has already failed the run); otherwise it
 * waits for the rest. Duplicated and shuffled messages converge on the same single outcome.
 */
async function buildsDone(event: BuildFinished, run: RunRecord, pipeline: Pipeline | undefined, deps: PromotionDeps, log: Logger): Promise<Result> {
  if (run.after !== event.sha || run.pipeline !== event.pipeline) {
    log.warn('ignored build-finished for another commit or pipeline than the run', { service: event.service, sha: event.sha });
    return result.none('another commit or pipeline');
  }
  if (run.services.length === 0) return result.none('the run does not list its services yet');
  const builds = run.services.map((service) => ({ service, build: run.builds[service] }));
  const failed = builds.filter(({ build }) => build && isTerminal(build.status as Parameters<typeof isTerminal>[0]) && (build.status !== 'SUCCESS' || !(build.image || build.plan)));
  if (failed.length > 0) return reportFailure(run, failed.map(({ service }) => service), deps, log);
  if (run.status !== 'running') return result.none(`the run has ${run.status}`);
  if (builds.some(({ build }) => !build || !isTerminal(build.status as Parameters<typeof isTerminal>[0]))) {
    return result.none(`waiting for the run's other builds (${builds.filter(({ build }) => build && isTerminal(build.status as Parameters<typeof isTerminal>[0])).length} of ${builds.length} finished)`);
  }
  if (run.release || run.kind === 'terraform') return next(run, pipeline, deps, log);
  // The release is fixed once, from the first environment's latest release: every environment
  // then gets exactly these digests (promotion never rebuilds). A deployment that failed, was
  // rolled back or was canceled is not carried on: a change someone stopped does not ride into
  // the next environments with another run's release.
  const first = pipeline ? environmentsOf(pipeline)[0]! : undefined;
  const history = first ? (await deps.ledger.environments.get(run.pipeline, first.name)).history : [];
  const previous = history.filter((entry) => entry.status === 'succeeded' || entry.status === 'in-progress').at(-1);
  const release = runRelease(run, previous);
  const withRelease = { ...run, release };
  const step = await next(withRelease, pipeline, deps, log);
  return {
    ...step,
    update: (current) => {
      const changed = current.release === undefined;
      current.release ??= release;
      return (step.update?.(current) ?? false) || changed;
    },
  };
}

/** The next step of the run's promotion, as an outcome. */
async function next(run: RunRecord, pipeline: Pipeline | undefined, deps: PromotionDeps, log: Logger): Promise<Result> {
  if (run.status !== 'running') return result.none(`the run has ${run.status}`);
  if (!pipeline) return result.none(`pipeline ${run.pipeline} is not in ${deps.config.file}`);
  const environments = environmentsOf(pipeline);
  const views = environmentViews(run, deps.manifest.plan(run), environments, deps.manifest.perEnvironmentStages);
  const holds = new Map(await Promise.all(environments.map(async (environment) => [environment.name, (await deps.ledger.environments.get(run.pipeline, environment.name)).hold] as const)));
  const release = releaseDigests(run.release ?? []);
  const key = releaseKey(release);
  const step = promotionPlan(environments, {
    release,
    phases: Object.fromEntries(views.map((view) => [view.name, view.phase])),
    held: [...holds].filter(([, hold]) => hold).map(([name]) => name),
    // Decisions are bound to the run's one release, so each approved one counts for it.
    approvals: Object.entries(run.decisions ?? {})
      .filter(([, decision]) => decision.decision === 'approved')
      .map(([environment]) => ({ environment, releaseKey: key })),
  });
  switch (step.action) {
    case 'deploy': {
      if (step.promotion === 'approval') return result.none(`${step.environment} is approved; chartBump deploys it`);
      return autoPromote(run, environments.find((environment) => environment.name === step.environment)!, deps, log);
    }
    case 'request-approval':
      return requestApproval(run, step.environment, deps, log);
    case 'wait': {
      // Waiting at a hold that has been lifted since: the question was never asked, so ask it now.
      if (step.reason === 'awaiting-approval' && !(await deps.ledger.approvals.get(run.runId, step.environment))) return requestApproval(run, step.environment, deps, log);
      if (step.reason !== 'held') return result.none(`${step.environment} is ${step.reason}`);
      const hold = holds.get(step.environment)!;
      const firstStage = views.find((view) => view.name === step.environment)?.stages[0];
      return { status: 'waiting', detail: `held by ${hold.by} since ${hold.at}: ${hold.reason} (baton release ${run.pipeline} --env ${step.environment})`, ...(firstStage ? { stage: firstStage } : {}) };
    }
    case 'stop':
      return result.none(`promotion stopped at ${step.environment} (${step.reason})`);
    case 'done':
      return result.none('every environment has the release');
  }
}

/** An `auto` environment: baton decides, once, and chartBump deploys. */
function autoPromote(run: RunRecord, environment: Environment, deps: PromotionDeps, log: Logger): Result {
  const decidedAt = deps.now().toISOString();
  log.info('promoting automatically', { environment: environment.name });
  return {
    environment: environment.name,
    note: `promoting to ${environment.name}`,
    when: (current) => current.decisions?.[environment.name] === undefined,
    update: (current) => {
      current.decisions = { ...current.decisions, [environment.name]: { runId: run.runId, ...(environment.name === IMPLICIT_ENVIRONMENT ? {} : { environment: environment.name }), decision: 'approved', decidedBy: AUTO_PROMOTION, decidedAt } };
      return true;
    },
    emit: [
      {
        topic: 'approval-decided',
        key: outboxKey('approval-decided', environment.name),
        input: {
          runId: run.runId,
          pipeline: run.pipeline,
          decision: 'approved',
          decidedBy: AUTO_PROMOTION,
          images: run.release ?? [],
          sha: run.after,
          order: run.order,
          reason: `${environment.name} is promoted automatically`,
          environment: environment.name,
          kind: 'promotion',
        },
      },
    ],
  };
}
