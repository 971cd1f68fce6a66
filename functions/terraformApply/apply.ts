import { correlationFor } from '../../domain/build/buildPlan.js';
import { startBuildOnce } from '../../domain/build/startBuildOnce.js';
import type { StartDeps } from '../../domain/build/startBuildOnce.js';
import type { BatonConfig, Pipeline } from '../../shared/config/pipelineConfig.js';
import { findPipeline, requireKey } from '../../shared/config/pipelineConfig.js';
import type { ApprovalDecided, CloudBuildNotification } from '../../shared/contracts/index.js';
import { Sha, isTerminal } from '../../shared/contracts/index.js';
import type { Logger } from '../../shared/log/logger.js';
import type { BuildRequest, Builder } from '../../shared/runtime/builders/builder.js';
import type { Outcome } from '../../shared/stage/outcome.js';
import { PermanentError, result } from '../../shared/stage/outcome.js';

/**
 * terraformApply: a Terraform run's deploy. On its approval it starts one apply build of
 * exactly the saved plan the approval is bound to (the build fetches it and refuses any other
 * file by its SHA-256); that build's end, read from Cloud Build's own notification, is the run's
 * deploy and its `deploy-finished`.
 */
export type TerraformApplyDeps = StartDeps & {
  config: BatonConfig;
  log: Logger;
  builderFor: (pipeline: Pipeline) => Builder;
  /** The build's run, from the ledger's record of it or its substitutions. */
  applyRecord: (build: CloudBuildNotification) => Promise<{ runId: string; pipeline: string; sha: string; logUrl?: string } | undefined>;
};

type Result = Outcome<'deploy-finished'>;

export async function startApply(event: ApprovalDecided, deps: TerraformApplyDeps): Promise<Result> {
  if (event.decision !== 'approved') return result.none(`run ${event.decision}: nothing to apply`);
  const pipeline = findPipeline(deps.config, event.pipeline);
  if (!pipeline) throw new PermanentError(`pipeline ${event.pipeline} is not in ${deps.config.file}`);
  const plan = event.plan;
  if (!plan) throw new PermanentError('the approval names no saved plan');
  const builder = deps.builderFor(pipeline);
  if (!builder.supports('terraform-apply')) {
    return result.skipped('Terraform applies run on Cloud Build; the embedded runtime does not apply', {
      emit: [{ topic: 'deploy-finished', input: { runId: event.runId, pipeline: event.pipeline, status: 'skipped', reason: 'the embedded runtime does not apply Terraform' } }],
    });
  }
  const needs = 'terraformApply';
  const dir = requireKey(deps.config, pipeline, 'terraform.dir', pipeline.terraform?.dir, needs);
  const planBucket = requireKey(deps.config, pipeline, 'terraform.planBucket', pipeline.terraform?.planBucket, needs);
  const mirrorUrl = requireKey(deps.config, pipeline, 'mirror.url', pipeline.mirror?.url, needs);
  const correlation = correlationFor(event.runId, pipeline.name, dir, event.sha);
  const request: BuildRequest = {
    runId: event.runId,
    pipeline: pipeline.name,
    service: dir,
    sha: event.sha,
    mirrorUrl,
    tags: correlation.tags,
    substitutions: { ...correlation.substitutions, _BATON_KIND: 'terraform-apply' },
    what: { kind: 'terraform-apply', dir, planBucket, planSha256: plan.sha256 },
  };
  // One apply per run, however often the approval is delivered.
  const handle = await startBuildOnce(request, builder, deps, deps.log);
  deps.log.info('the terraform apply is started', { runId: event.runId, buildId: handle.buildId, planSha256: plan.sha256 });
  return result.running(`applying the approved plan ${plan.sha256.slice(0, 12)} in build ${handle.buildId}`, handle.logUrl ? { links: { 'apply logs': handle.logUrl } } : {});
}

/** An apply build's notification: its end is the run's deploy, reported once. */
export async function finishApply(build: CloudBuildNotification, deps: TerraformApplyDeps): Promise<Result> {
  const record = await deps.applyRecord(build);
  if (!record) return result.none(`ignored build ${build.id}: not an apply baton started`);
  if (!isTerminal(build.status)) return result.none(`apply is ${build.status}`);
  const applied = build.status === 'SUCCESS';
  const reason = applied ? undefined : `terraform apply ended ${build.status}${build.statusDetail ? `: ${build.statusDetail}` : ''}`;
  const logUrl = build.logUrl ?? record.logUrl;
  deps.log.info('terraform apply finished', { runId: record.runId, event: 'deploy-finished', status: applied ? 'synced' : 'failed' });
  return {
    runId: record.runId,
    status: applied ? 'succeeded' : 'failed',
    detail: applied ? `applied the approved plan at ${record.sha.slice(0, 7)}` : reason!,
    ...(logUrl ? { links: { 'apply logs': logUrl } } : {}),
    emit: [{ topic: 'deploy-finished', input: { runId: record.runId, pipeline: record.pipeline, status: applied ? 'synced' : 'failed', revision: record.sha, ...(reason ? { reason } : {}) } }],
  };
}

/** The run an apply build belongs to: the ledger's record, or its substitutions (a notification can come first). */
export function applySubstitutions(build: CloudBuildNotification): { runId: string; pipeline: string; sha: string } | undefined {
  const subs = build.substitutions ?? {};
  if (subs._BATON_KIND !== 'terraform-apply' || !subs._BATON_RUN_ID || !subs._BATON_PIPELINE || !subs._BATON_SHA || !Sha.safeParse(subs._BATON_SHA).success) return undefined;
  return { runId: subs._BATON_RUN_ID, pipeline: subs._BATON_PIPELINE, sha: subs._BATON_SHA };
}
