import type { Builder } from '../../domain/build/builder.js';
import { startBuildOnce } from '../../domain/build/startBuildOnce.js';
import { correlationFor } from '../../domain/build/buildPlan.js';
import { deployFinishedKey, publishOnce } from '../../shared/bus/publishOnce.js';
import type { Bus } from '../../shared/bus/bus.js';
import type { BatonConfig, Pipeline } from '../../shared/config/pipelineConfig.js';
import { ConfigError, requireKey } from '../../shared/config/pipelineConfig.js';
import type { ApprovalDecided } from '../../shared/contracts/index.js';
import type { RunLedger, StageUpdate } from '../../shared/ledger/runLedger.js';
import type { Logger } from '../../shared/log/logger.js';

/**
 * Terraform pipelines: an approved run has no chart to bump; it applies the plan saved at plan
 * time. The approval is bound to that plan's SHA-256 (it stands where an image digest would), and
 * the apply build refuses any other file. The apply's end is reported by `buildStatus` as the
 * run's `deploy-finished`.
 */
export const TERRAFORM_SKIP_REASON = 'terraform pipelines apply the saved plan instead';

export type TerraformApplyDeps = {
  config: BatonConfig;
  ledger: RunLedger;
  bus: Bus;
  /** Cloud Build for the pipeline; absent in the embedded runtime, which cannot apply. */
  applyBuilderFor?: (pipeline: Pipeline) => Builder;
  now?: () => Date;
};

export function isTerraformPipeline(pipeline: Pipeline): boolean {
  return pipeline.kind === 'terraform';
}

export async function applyTerraformPlan(event: ApprovalDecided, pipeline: Pipeline, deps: TerraformApplyDeps, recordChart: (update: StageUpdate) => Promise<unknown>, log: Logger): Promise<void> {
  await recordChart({ status: 'skipped', detail: TERRAFORM_SKIP_REASON });
  const deploy = (update: StageUpdate) => deps.ledger.recordStage(event.runId, 'deploy', update);
  const end = async (status: 'skipped' | 'failed', reason: string) => {
    log.warn('the approved plan is not applied', { reason });
    await publishOnce(deps, deployFinishedKey(event.runId), 'deploy-finished', { runId: event.runId, pipeline: event.pipeline, status, reason });
    await deploy({ status, detail: reason });
  };
  if (!deps.applyBuilderFor) return end('skipped', 'Terraform applies run on Cloud Build; the embedded runtime does not apply');
  const plan = event.images[0];
  if (!plan || !/^sha256:[0-9a-f]{64}$/.test(plan.digest)) return end('failed', 'the approval names no saved plan');

  let request;
  try {
    const dir = requireKey(deps.config, pipeline, 'terraform.dir', pipeline.terraform?.dir, 'chartBump (terraform apply)');
    const planBucket = requireKey(deps.config, pipeline, 'terraform.planBucket', pipeline.terraform?.planBucket, 'chartBump (terraform apply)');
    const mirrorUrl = requireKey(deps.config, pipeline, 'mirror.url', pipeline.mirror?.url, 'chartBump (terraform apply)');
    const correlation = correlationFor(event.runId, pipeline.name, dir, event.sha);
    request = {
      runId: event.runId,
      pipeline: pipeline.name,
      service: dir,
      sha: event.sha,
      mirrorUrl,
      tags: correlation.tags,
      substitutions: { ...correlation.substitutions, _BATON_KIND: 'terraform-apply' },
      what: { kind: 'terraform-apply' as const, dir, planBucket, planSha256: plan.digest.slice('sha256:'.length) },
    };
  } catch (error) {
    if (error instanceof ConfigError) return end('failed', error.message);
    throw error;
  }

  // One apply per run, however often the approval is delivered.
  const handle = await startBuildOnce(request, deps.applyBuilderFor(pipeline), deps, log);
  await deploy({ status: 'running', detail: `applying the approved plan ${plan.digest.slice(7, 19)} in build ${handle.buildId}`, ...(handle.logUrl ? { links: { 'apply logs': handle.logUrl } } : {}) });
  log.info('the terraform apply is started', { buildId: handle.buildId, planSha256: request.what.planSha256 });
}
