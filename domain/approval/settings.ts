import type { BatonConfig } from '../../shared/config/pipelineConfig.js';
import { findPipeline } from '../../shared/config/pipelineConfig.js';
import type { RunRecord } from '../../shared/ledger/runLedger.js';
import type { RunView } from './messages.js';
import { IMPLICIT_ENVIRONMENT } from '../../shared/contracts/index.js';
import { environmentsOf } from '../environments/config.js';

export const DEFAULT_TTL_SECONDS = 86_400;

/** A pipeline's approval settings: `approval.*` in the config, else the Slack env vars. */
export type ApprovalSettings = {
  channel?: string;
  approvers: string[];
  allowSelfApproval: boolean;
  ttlSeconds: number;
};

export function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

/** The approval settings of one environment (default the implicit one): the environment's `approval`, else the pipeline's, else the Slack env vars. */
export function approvalSettings(config: BatonConfig, pipelineName: string, env: { SLACK_CHANNEL?: string; SLACK_APPROVERS?: string }, environment: string = IMPLICIT_ENVIRONMENT): ApprovalSettings {
  const pipeline = findPipeline(config, pipelineName);
  const approval = pipeline ? (environmentsOf(pipeline).find((candidate) => candidate.name === environment)?.approval ?? pipeline.approval) : undefined;
  return {
    channel: approval?.channel ?? (env.SLACK_CHANNEL || undefined),
    approvers: approval?.approvers ?? splitList(env.SLACK_APPROVERS),
    allowSelfApproval: approval?.allowSelfApproval ?? true,
    ttlSeconds: approval?.ttlSeconds ?? DEFAULT_TTL_SECONDS,
  };
}


/** What the messages show of a run; with an environment other than the implicit one, they name it and show the run's release. */
export function runView(run: RunRecord, environment: string = IMPLICIT_ENVIRONMENT): RunView {
  return {
    ...(environment !== IMPLICIT_ENVIRONMENT ? { environment, ...(run.release ? { release: run.release } : {}) } : {}),
    runId: run.runId,
    pipeline: run.pipeline,
    kind: run.kind,
    repository: run.repository,
    branch: run.branch,
    sha: run.after,
    pusher: run.pusher,
    headMessage: run.headMessage,
    compareUrl: run.compareUrl,
    ...(run.retry ? { retry: run.retry } : {}),
    services: run.services.map((service) => {
      const build = run.builds[service];
      return {
        service,
        status: build?.status ?? 'pending',
        ...(build?.image ? { image: build.image } : {}),
        ...(build?.logUrl ? { logUrl: build.logUrl } : {}),
        ...(build?.detail ? { detail: build.detail } : {}),
        ...(build?.plan ? { planSummary: build.plan.summary } : {}),
      };
    }),
  };
}
