import type { BatonConfig } from '../../shared/config/pipelineConfig.js';
import { findPipeline } from '../../shared/config/pipelineConfig.js';
import { isTerminal } from '../../shared/contracts/index.js';
import type { BuildFinished, BuiltImage } from '../../shared/contracts/index.js';
import type { RunLedger, RunRecord } from '../../shared/ledger/runLedger.js';
import type { Logger } from '../../shared/log/logger.js';
import { redactedError } from '../../shared/log/redact.js';
import type { ApprovalRecord } from '../../shared/ledger/approvals.js';
import { claimKeys } from '../../shared/ledger/claimKeys.js';
import type { Outcome } from '../../shared/stage/outcome.js';
import { PermanentError, result } from '../../shared/stage/outcome.js';
import { approvalRequestMessage, buildFailedMessage } from '../../domain/approval/messages.js';
import { approvalSettings, runView } from '../../domain/approval/settings.js';
import type { SlackApi } from '../../domain/approval/slackClient.js';
import { boundArtifacts, digestFingerprint, signToken } from '../../domain/approval/token.js';

export type ApprovalRequestDeps = {
  ledger: RunLedger;
  config: BatonConfig;
  /** `SLACK_CHANNEL` / `SLACK_APPROVERS`, the defaults for pipelines whose config sets none. */
  env: { SLACK_CHANNEL?: string; SLACK_APPROVERS?: string };
  /** Absent when Slack is not configured: the request is still recorded, and the CLI or Jenkins decides. */
  slack?: SlackApi;
  /** `BATON_APPROVAL_SECRET` keys; the first signs the button tokens. */
  tokenSecrets: readonly string[];
  now: () => Date;
  log: Logger;
};

/** How long one delivery may spend posting before a redelivery takes over (see `ApprovalRecords.beginRequest`). */
export const POST_LEASE_MS = 30_000;

type Result = Outcome<'approval-requested'>;

/**
 * `build-finished` → approval. buildStatus has recorded the build in the run before saying so,
 * so the run tells the whole story: every service succeeded → the question goes to Slack once;
 * one failed → one failure message (the build stage has already failed the run); otherwise it
 * waits for the rest. Duplicated and shuffled messages converge on the same single outcome.
 */
export async function handleBuildFinished(event: BuildFinished, deps: ApprovalRequestDeps): Promise<Result> {
  const log = deps.log.child({ stage: 'approvalRequest', runId: event.runId, pipeline: event.pipeline });
  const run = await deps.ledger.getRun(event.runId);
  if (!run) return result.none('build-finished for a run the ledger does not know');
  if (run.after !== event.sha || run.pipeline !== event.pipeline) {
    log.warn('ignored build-finished for another commit or pipeline than the run', { service: event.service, sha: event.sha });
    return result.none('another commit or pipeline');
  }
  if (run.services.length === 0) return result.none('the run does not list its services yet');
  const builds = run.services.map((service) => ({ service, build: run.builds[service] }));
  const failed = builds.filter(({ build }) => build && isTerminalStatus(build.status) && (build.status !== 'SUCCESS' || !(build.image || build.plan)));
  if (failed.length > 0) return reportFailure(run, failed.map(({ service }) => service), deps, log);
  if (run.status !== 'running') return result.none(`the run has ${run.status}`);
  if (builds.some(({ build }) => !build || !isTerminalStatus(build.status))) {
    return result.none(`waiting for the run's other builds (${builds.filter(({ build }) => build && isTerminalStatus(build.status)).length} of ${builds.length} finished)`);
  }
  return requestApproval(run, deps, log);
}

function isTerminalStatus(status: string): boolean {
  return isTerminal(status as Parameters<typeof isTerminal>[0]);
}

async function requestApproval(run: RunRecord, deps: ApprovalRequestDeps, log: Logger): Promise<Result> {
  const settings = approvalSettings(deps.config, run.pipeline, deps.env);
  const problem = !findPipeline(deps.config, run.pipeline)
    ? `pipeline ${run.pipeline} is not in ${deps.config.file}`
    : deps.tokenSecrets.length === 0
      ? 'BATON_APPROVAL_SECRET is not set, so the buttons cannot be signed'
      : deps.slack && !settings.channel
        ? `no Slack channel: set SLACK_CHANNEL or pipelines[${deps.config.pipelines.findIndex((p) => p.name === run.pipeline)}].approval.channel in ${deps.config.file}`
        : undefined;
  // A configuration problem: retrying cannot fix it, so the run is closed and says why.
  if (problem) throw new PermanentError(`failed to request approval: ${problem}`);

  const approvals = deps.ledger.approvals;
  const now = deps.now();
  const lease = await approvals.beginRequest({ runId: run.runId, pipeline: run.pipeline, sha: run.after, order: run.order }, now, POST_LEASE_MS);
  if (lease.state === 'in-progress') throw new Error(`failed to request approval for run ${run.runId}: another delivery is posting it; retrying later`);
  // Posted before (by a delivery that stopped short of recording it): record it now.
  if (lease.state === 'done') return asked(lease.record);

  const images: BuiltImage[] = run.services.flatMap((service) => {
    const image = run.builds[service]?.image;
    return image ? [{ service, ...image }] : [];
  });
  const plan = run.kind === 'terraform' ? run.builds[run.services[0]!]?.plan : undefined;
  // A whole second, so the tokens (which carry seconds) and the request expire at the same instant.
  const exp = Math.ceil(now.getTime() / 1000) + settings.ttlSeconds;
  const expiresAt = new Date(exp * 1000).toISOString();
  const fingerprint = digestFingerprint(boundArtifacts(images, plan));
  const secret = deps.tokenSecrets[0]!;
  const tokens = {
    approve: signToken({ run: run.runId, act: 'approve', dig: fingerprint, exp }, secret),
    reject: signToken({ run: run.runId, act: 'reject', dig: fingerprint, exp }, secret),
  };
  let posted = { channel: '', ts: '' };
  if (deps.slack) {
    try {
      posted = await deps.slack.postMessage(settings.channel!, approvalRequestMessage(runView(run), tokens, expiresAt));
    } catch (error) {
      await approvals.abandonRequest(run.runId).catch(() => undefined);
      throw redactedError(`failed to request approval for run ${run.runId}`, error);
    }
  } else {
    log.warn('SLACK_BOT_TOKEN is not set: no Slack message; decide with `baton approve|reject`', {});
  }
  const record = await approvals.completeRequest(run.runId, { images, ...(plan ? { plan } : {}), channel: posted.channel, ts: posted.ts, requestedAt: now.toISOString(), expiresAt });
  log.info('requested approval', { channel: posted.channel, ts: posted.ts, services: run.services, expiresAt });
  if (!record) throw new Error(`failed to record the approval request of run ${run.runId}`);
  return asked(record);
}

/** The approval stage waits, and `approval-requested` says where the question is. */
function asked(record: ApprovalRecord): Result {
  return result.waiting(
    record.ts ? `asked in Slack (channel ${record.channel}, message ${record.ts}); expires ${record.expiresAt}` : `waiting for \`baton approve ${record.runId}\`; expires ${record.expiresAt}`,
    {
      emit: [
        {
          topic: 'approval-requested',
          input: {
            runId: record.runId,
            pipeline: record.pipeline,
            channel: record.channel,
            ts: record.ts,
            images: record.images,
            ...(record.plan ? { plan: record.plan } : {}),
            expiresAt: record.expiresAt,
          },
        },
      ],
    },
  );
}

/** A build failed: the build stage has ended the run; Slack gets one message without buttons. */
async function reportFailure(run: RunRecord, failed: string[], deps: ApprovalRequestDeps, log: Logger): Promise<Result> {
  const channel = approvalSettings(deps.config, run.pipeline, deps.env).channel;
  const outcome = result.skipped<'approval-requested'>('a build failed');
  if (!deps.slack || !channel) return outcome;
  const key = claimKeys.buildFailedMessage(run.runId);
  if (!(await deps.ledger.claim(key, { runId: run.runId }))) return outcome;
  try {
    await deps.slack.postMessage(channel, buildFailedMessage(runView(run)));
  } catch (error) {
    await deps.ledger.releaseClaim(key).catch(() => undefined);
    throw redactedError(`failed to post the build failure for run ${run.runId}`, error);
  }
  log.info('reported a failed build', { failed });
  return outcome;
}
