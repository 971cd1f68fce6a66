import { deployFinishedKey, publishOnce } from '../../shared/bus/publishOnce.js';
import type { BuildRecord } from '../../domain/build/buildRecord.js';
import type { BuildFinished, BuiltImage, CloudBuildNotification } from '../../shared/contracts/index.js';
import type { Logger } from '../../shared/log/logger.js';
import type { BuildStatusDeps } from './status.js';

/**
 * Terraform pipelines on the same chain. A plan build reports its plan through its last step's
 * output (`results.buildStepOutputs`); the saved plan file then stands where an image would: its
 * location is the "repository" and its SHA-256 the digest, so the approval is bound to exactly
 * that plan. An apply build's end is the run's deploy.
 */
export type PlanReport = { add: number; change: number; destroy: number; destroyed: string[]; location: string; planSha256: string };

export function planReport(build: CloudBuildNotification): PlanReport | undefined {
  const outputs = build.results?.buildStepOutputs ?? [];
  for (let index = outputs.length - 1; index >= 0; index--) {
    const text = Buffer.from(outputs[index] ?? '', 'base64').toString('utf8').trim();
    if (!text) continue;
    try {
      const report = JSON.parse(text) as Partial<PlanReport>;
      if (typeof report.planSha256 === 'string' && /^[0-9a-f]{64}$/.test(report.planSha256) && typeof report.location === 'string') {
        return { add: report.add ?? 0, change: report.change ?? 0, destroy: report.destroy ?? 0, destroyed: report.destroyed ?? [], location: report.location, planSha256: report.planSha256 };
      }
    } catch {
      // not the report
    }
  }
  return undefined;
}

/** The plan as the approval sees it: an artifact with a content digest. */
export function planArtifact(record: BuildRecord, report: PlanReport): { image: BuiltImage; planSummary: NonNullable<BuildFinished['planSummary']> } {
  return {
    image: { service: record.service, repository: report.location, tag: `plan-${report.planSha256.slice(0, 12)}`, digest: `sha256:${report.planSha256}` },
    planSummary: { add: report.add, change: report.change, destroy: report.destroy, destroyed: report.destroyed },
  };
}

/** An approved apply has ended: that is the run's deploy, reported once. */
export async function finishApply(build: CloudBuildNotification, record: BuildRecord, deps: BuildStatusDeps, log: Logger): Promise<void> {
  const applied = build.status === 'SUCCESS';
  const reason = applied ? undefined : `terraform apply ended ${build.status}${build.statusDetail ? `: ${build.statusDetail}` : ''}`;
  const published = await publishOnce(deps, deployFinishedKey(record.runId), 'deploy-finished', {
    runId: record.runId,
    pipeline: record.pipeline,
    status: applied ? 'synced' : 'failed',
    revision: record.sha,
    ...(reason ? { reason } : {}),
  });
  if (!published) return;
  await deps.ledger.recordStage(record.runId, 'deploy', {
    status: applied ? 'succeeded' : 'failed',
    detail: applied ? `applied the approved plan at ${record.sha.slice(0, 7)}` : reason!,
    ...(build.logUrl ?? record.logUrl ? { links: { 'apply logs': (build.logUrl ?? record.logUrl)! } } : {}),
  });
  log.info('terraform apply finished', { event: 'deploy-finished', status: applied ? 'synced' : 'failed' });
}
