import { findPipeline } from '../../shared/config/pipelineConfig.js';
import { IMPLICIT_ENVIRONMENT } from '../../shared/contracts/index.js';
import type { ReleaseImage } from '../../shared/contracts/index.js';
import type { RunRecord } from '../../shared/ledger/runLedger.js';
import type { Logger } from '../../shared/log/logger.js';
import { redactedError } from '../../shared/log/redact.js';
import type { ApprovalRecord } from '../../shared/ledger/approvals.js';
import { claimKeys } from '../../shared/ledger/claimKeys.js';
import type { Outcome } from '../../shared/stage/outcome.js';
import { PermanentError, result } from '../../shared/stage/outcome.js';
import { approvalRequestMessage, buildFailedMessage } from '../../domain/approval/messages.js';
import { approvalSettings, runView } from '../../domain/approval/settings.js';
import { outboxKey } from '../../domain/environments/keys.js';
import type { PromotionDeps } from './promote.js';
import { boundArtifacts, digestFingerprint, signToken } from '../../domain/approval/token.js';

/** How long one delivery may spend posting before a redelivery takes over (see `ApprovalRecords.beginRequest`). */
export const POST_LEASE_MS = 30_000;

type Result = Outcome<'approval-requested'>;

/**
 * Asks for an approval of the run's release in one environment: one Slack message with signed,
 * expiring buttons bound to the release and the environment, posted once (a lease in the
 * ledger covers a crash mid-post), and `approval-requested`.
 */
export async function requestApproval(run: RunRecord, environment: string, deps: PromotionDeps, log: Logger): Promise<Result> {
  const settings = approvalSettings(deps.config, run.pipeline, deps.env, environment);
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
  const lease = await approvals.beginRequest({ runId: run.runId, pipeline: run.pipeline, environment, sha: run.after, order: run.order }, now, POST_LEASE_MS);
  if (lease.state === 'in-progress') throw new Error(`failed to request approval for run ${run.runId}: another delivery is posting it; retrying later`);
  // Posted before (by a delivery that stopped short of recording it): record it now.
  if (lease.state === 'done') return asked(lease.record);

  const images: ReleaseImage[] = run.release ?? [];
  const plan = run.kind === 'terraform' ? run.builds[run.services[0]!]?.plan : undefined;
  // A whole second, so the tokens (which carry seconds) and the request expire at the same instant.
  const exp = Math.ceil(now.getTime() / 1000) + settings.ttlSeconds;
  const expiresAt = new Date(exp * 1000).toISOString();
  const fingerprint = digestFingerprint(boundArtifacts(images, plan, environment));
  const secret = deps.tokenSecrets[0]!;
  const env = environment === IMPLICIT_ENVIRONMENT ? {} : { env: environment };
  const tokens = {
    approve: signToken({ run: run.runId, act: 'approve', dig: fingerprint, exp, ...env }, secret),
    reject: signToken({ run: run.runId, act: 'reject', dig: fingerprint, exp, ...env }, secret),
  };
  let posted = { channel: '', ts: '' };
  if (deps.slack) {
    try {
      posted = await deps.slack.postMessage(settings.channel!, approvalRequestMessage(runView(run, environment), tokens, expiresAt));
    } catch (error) {
      await approvals.abandonRequest(run.runId, environment).catch(() => undefined);
      throw redactedError(`failed to request approval for run ${run.runId}`, error);
    }
  } else {
    log.warn('SLACK_BOT_TOKEN is not set: no Slack message; decide with `baton approve|reject`', { environment });
  }
  const record = await approvals.completeRequest(run.runId, environment, { images, ...(plan ? { plan } : {}), channel: posted.channel, ts: posted.ts, requestedAt: now.toISOString(), expiresAt });
  log.info('requested approval', { environment, channel: posted.channel, ts: posted.ts, services: run.services, expiresAt });
  if (!record) throw new Error(`failed to record the approval request of run ${run.runId}`);
  return asked(record);
}

/** The approval stage waits, and `approval-requested` says where the question is. */
function asked(record: ApprovalRecord): Result {
  const environment = record.environment ?? IMPLICIT_ENVIRONMENT;
  const flag = environment === IMPLICIT_ENVIRONMENT ? '' : ` --env ${environment}`;
  return result.waiting(
    record.ts ? `asked in Slack (channel ${record.channel}, message ${record.ts}); expires ${record.expiresAt}` : `waiting for \`baton approve ${record.runId}${flag}\`; expires ${record.expiresAt}`,
    {
      environment,
      emit: [
        {
          topic: 'approval-requested',
          key: outboxKey('approval-requested', environment),
          input: {
            runId: record.runId,
            pipeline: record.pipeline,
            channel: record.channel,
            ts: record.ts,
            images: record.images,
            ...(record.plan ? { plan: record.plan } : {}),
            expiresAt: record.expiresAt,
            environment,
          },
        },
      ],
    },
  );
}

/** A build failed: the build stage has ended the run; Slack gets one message without buttons. */
export async function reportFailure(run: RunRecord, failed: string[], deps: PromotionDeps, log: Logger): Promise<Result> {
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
