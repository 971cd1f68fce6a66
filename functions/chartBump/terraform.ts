import type { Pipeline } from '../../shared/config/pipelineConfig.js';
import type { ApprovalDecided } from '../../shared/contracts/index.js';
import type { StageUpdate } from '../../shared/ledger/runLedger.js';
import type { Logger } from '../../shared/log/logger.js';

/**
 * SEAM (terraform pipelines): an approved `kind: terraform` run has no chart to bump; it applies
 * the plan saved at plan time. Until that apply is wired here, the chart stage says so and
 * nothing else happens.
 */
export const TERRAFORM_SKIP_REASON = 'terraform pipelines apply the saved plan instead';

export function isTerraformPipeline(pipeline: Pipeline): boolean {
  return pipeline.kind === 'terraform';
}

export async function skipTerraformPipeline(event: ApprovalDecided, record: (update: StageUpdate) => Promise<unknown>, log: Logger): Promise<void> {
  log.info('chart bump skipped', { reason: TERRAFORM_SKIP_REASON, runId: event.runId });
  await record({ status: 'skipped', detail: TERRAFORM_SKIP_REASON });
}
