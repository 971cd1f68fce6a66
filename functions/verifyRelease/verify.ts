import type { BatonConfig } from '../../shared/config/pipelineConfig.js';
import { findPipeline } from '../../shared/config/pipelineConfig.js';
import type { CheckVerdict, DeployFinished } from '../../shared/contracts/index.js';
import { claimKeys } from '../../shared/ledger/claimKeys.js';
import type { RunLedger, RunRecord } from '../../shared/ledger/runLedger.js';
import { overtaken } from '../../shared/ledger/environments.js';
import type { Logger } from '../../shared/log/logger.js';
import type { Manifest } from '../../shared/stage/manifest.js';
import type { Outcome } from '../../shared/stage/outcome.js';
import { result } from '../../shared/stage/outcome.js';
import type { Publisher } from '../../shared/stage/publisher.js';
import { crashPoint } from '../../shared/stage/crashPoint.js';
import { SYSTEM_DECIDER } from '../../domain/approval/decide.js';
import { verificationFailedMessage } from '../../domain/approval/messages.js';
import { approvalSettings, runView } from '../../domain/approval/settings.js';
import type { SlackApi } from '../../domain/approval/slackClient.js';
import type { Environment } from '../../domain/environments/config.js';
import { environmentsOf } from '../../domain/environments/config.js';
import { outboxKey } from '../../domain/environments/keys.js';
import { environmentStages } from '../../domain/environments/phases.js';
import { autoRollbackRunId, startRollback } from '../../domain/environments/rollback.js';
import { releaseDigests } from '../../domain/environments/runRelease.js';
import { describeVerification, verifyRelease } from '../../domain/verify/verify.js';
import type { VerifyResult } from '../../domain/verify/verify.js';

/**
 * verifyRelease: once an environment runs a run's release (deployWatch saw the digests live),
 * its checks run against the Prometheus HTTP API for the environment's `for` (issue #15):
 * - every check held → `verify:<env>` succeeded, `release-verified` passed, and promotion moves on;
 * - a check failed, or could not be evaluated (it fails closed, saying why) → the environment
 *   is rolled back to its previous release by a rollback run (a chart commit), Slack says which
 *   check failed with the value, the stage and the run end `rolled-back`, and nothing later is
 *   promoted;
 * - a newer release or a rollback of the environment supersedes a verification in flight: it
 *   stops at once rather than holding up the fix (kargo #3258).
 * A rollback restores a release that already passed there, so it is not verified again.
 */
export type VerifyDeps = {
  ledger: RunLedger;
  config: BatonConfig;
  manifest: Manifest;
  publisher: Publisher<'release-verified' | 'approval-decided'>;
  env: { PROMETHEUS_URL?: string; SLACK_CHANNEL?: string };
  slack?: SlackApi;
  /** Google credentials for Managed Prometheus (`monitoring.googleapis.com`). */
  accessToken: () => Promise<string | undefined>;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  log: Logger;
  progress: (detail: string) => Promise<void>;
  /** How often a verification in flight looks for a newer deployment of its environment. Default 2 s. */
  supersedeCheckMs?: number;
  /** Seconds between evaluations (default domain/verify's 5 s). */
  intervalSeconds?: number;
};

type Result = Outcome<'release-verified' | 'approval-decided'>;

export async function verifyDeployedRelease(event: DeployFinished, deps: VerifyDeps): Promise<Result> {
  if (event.kind === 'rollback') return result.none('a rollback restores a release that was verified there; it is not verified again');
  if (event.status !== 'synced' && event.status !== 'skipped') return result.none(`the deploy ended ${event.status}`);
  const pipeline = findPipeline(deps.config, event.pipeline);
  const environment = pipeline ? environmentsOf(pipeline, deps.env).find((candidate) => candidate.name === event.environment) : undefined;
  if (!pipeline || !environment?.verify) return result.none(`${event.environment} has no verification`);
  const run = await deps.ledger.getRun(event.runId);
  if (!run) return result.none('deploy-finished for a run the ledger does not know');
  if (run.outbox[outboxKey('release-verified', environment.name)]) return result.none(`already verified in ${environment.name}`);
  const log = deps.log.child({ stage: 'verify', runId: run.runId, pipeline: run.pipeline, environment: environment.name });

  // A delivery after the rollback was started (a crash in between) records that, without verifying again.
  const started = await deps.ledger.getRun(autoRollbackRunId(run.pipeline, environment.name, run.runId));
  const verdict: VerifyResult & { earlier?: string } = started?.rollback ? { ok: false, stoppedEarly: true, checks: [], rounds: 0, earlier: started.rollback.reason } : await watch(event, run, environment, deps, log);
  if (verdict.superseded) {
    // As deployWatch marks a deploy that was overtaken: the newer deployment is the one to judge.
    await deps.ledger.environments.settleDeployment(run.pipeline, environment.name, run.runId, 'superseded');
    log.info('verification superseded by a newer deployment of the environment');
    return finish(run, environment, 'superseded', verdict, describeVerification(verdict), undefined);
  }
  if (verdict.ok) {
    await deps.ledger.environments.settleDeployment(run.pipeline, environment.name, run.runId, 'succeeded');
    log.info('verification passed', { checks: verdict.checks.length, rounds: verdict.rounds });
    return finish(run, environment, 'passed', verdict, describeVerification(verdict), undefined);
  }
  const why = verdict.earlier ?? `verification failed in ${environment.name}: ${describeVerification(verdict)}`;
  log.warn('verification failed; rolling the environment back', { reason: why });
  // Started before a crash: that one stands (the reconciler publishes its event if it never went out).
  const rollback = started?.rollback
    ? { ok: true as const, runId: started.runId, toRunId: started.rollback.toRunId }
    : await startRollback(
        { pipeline: run.pipeline, environment, fromRunId: run.runId, reason: why, by: SYSTEM_DECIDER },
        { ledger: deps.ledger, publisher: deps.publisher as unknown as Publisher<'approval-decided'>, plan: environmentStages(deps.manifest.runPlan(pipeline), environment, ['chart', 'deploy']), now: deps.now },
      );
  crashPoint('verify:after-rollback-started');
  await deps.ledger.environments.settleDeployment(run.pipeline, environment.name, run.runId, rollback.ok ? 'rolled-back' : 'failed');
  const rolledBack = rollback.ok ? { runId: rollback.runId, toRunId: rollback.toRunId } : undefined;
  await tellSlack(run, environment, why, verdict, rolledBack, deps, log);
  const detail = rolledBack ? `${why}; rolled back to run ${rolledBack.toRunId}'s release (rollback run ${rolledBack.runId})` : `${why}; nothing to roll back to (${(rollback as { reason: string }).reason})`;
  return finish(run, environment, 'failed', verdict, detail, rolledBack?.runId);
}

/** Runs the checks for the environment's window, stopping early when another deployment of it starts. */
async function watch(event: DeployFinished, run: RunRecord, environment: Environment, deps: VerifyDeps, log: Logger): Promise<VerifyResult> {
  const verify = environment.verify!;
  const url = verify.prometheusUrl;
  await deps.progress(`watching ${verify.checks.length} check(s) for ${verify.forSeconds} s${url ? ` against ${new URL(url).host}` : ''}`);
  const controller = new AbortController();
  const superseded = setInterval(() => {
    deps.ledger.environments
      .get(run.pipeline, environment.name)
      .then((record) => {
        if (overtaken(record, run.runId)) controller.abort();
      })
      .catch((error: unknown) => log.warn('failed to look for a newer deployment; verification goes on', { error }));
  }, deps.supersedeCheckMs ?? 2_000);
  try {
    return await verifyRelease({
      prometheusUrl: url,
      checks: verify.checks,
      forSeconds: verify.forSeconds,
      release: releaseDigests(event.images.length ? event.images : (run.deployments?.[environment.name]?.images ?? [])),
      environment: environment.name,
      ...(deps.intervalSeconds !== undefined ? { intervalSeconds: deps.intervalSeconds } : {}),
      // Managed Prometheus takes the function's Google credentials; any other Prometheus none.
      headers: async (): Promise<Record<string, string>> => {
        if (!url || new URL(url).host !== 'monitoring.googleapis.com') return {};
        const token = await deps.accessToken();
        return token ? { authorization: `Bearer ${token}` } : {};
      },
      now: () => deps.now(),
      sleep: deps.sleep,
      signal: controller.signal,
      onRound: () => crashPoint('verify:during'),
    });
  } finally {
    clearInterval(superseded);
  }
}

/** The stage's outcome, the checks on the run, and `release-verified`, in one write. */
function finish(run: RunRecord, environment: Environment, verdict: 'passed' | 'failed' | 'superseded', result: VerifyResult, detail: string, rollbackRunId: string | undefined): Result {
  const checks: CheckVerdict[] = result.checks.map((check) => ({ name: check.name, value: check.value, ok: check.ok, ...(check.service ? { service: check.service } : {}), ...(check.reason ? { reason: check.reason } : {}) }));
  return {
    environment: environment.name,
    status: verdict === 'passed' ? 'succeeded' : verdict === 'superseded' ? 'superseded' : rollbackRunId ? 'rolled-back' : 'failed',
    detail,
    ...(rollbackRunId ? { links: { rollback: rollbackRunId } } : {}),
    update: (current) => {
      const deployment = current.deployments?.[environment.name] ?? { images: [] };
      current.deployments = { ...current.deployments, [environment.name]: { ...deployment, checks } };
      return true;
    },
    emit: [
      {
        topic: 'release-verified',
        key: outboxKey('release-verified', environment.name),
        input: { runId: run.runId, pipeline: run.pipeline, environment: environment.name, verdict, checks, ...(verdict === 'passed' ? {} : { reason: detail }), ...(rollbackRunId ? { rollbackRunId } : {}) },
      },
    ],
  };
}

/** One Slack message per run and environment: which check failed, the value, and the rollback. */
async function tellSlack(run: RunRecord, environment: Environment, reason: string, verdict: VerifyResult, rollback: { runId: string; toRunId: string } | undefined, deps: VerifyDeps, log: Logger): Promise<void> {
  const channel = approvalSettings(deps.config, run.pipeline, { SLACK_CHANNEL: deps.env.SLACK_CHANNEL }, environment.name).channel;
  if (!deps.slack || !channel) return;
  const key = claimKeys.verificationFailedMessage(run.runId, environment.name);
  if (!(await deps.ledger.claim(key, { runId: run.runId }))) return;
  try {
    await deps.slack.postMessage(channel, verificationFailedMessage({ ...runView(run, environment.name), environment: environment.name }, { reason, checks: verdict.checks, ...(rollback ? { rollback } : {}) }));
  } catch (error) {
    // The rollback is under way whatever Slack says; the message is not worth a redelivery.
    log.warn('failed to post the verification failure to Slack', { error });
  }
}
