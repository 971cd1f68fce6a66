import type { Bus } from '../../shared/bus/bus.js';
import { publishOnce } from '../../shared/bus/publishOnce.js';
import type { BatonConfig } from '../../shared/config/pipelineConfig.js';
import { findPipeline } from '../../shared/config/pipelineConfig.js';
import { isTerminal } from '../../shared/contracts/index.js';
import type { BuildFinished, BuiltImage } from '../../shared/contracts/index.js';
import type { RunLedger, RunRecord } from '../../shared/ledger/runLedger.js';
import type { Logger } from '../../shared/log/logger.js';
import { redactedError } from '../../shared/log/redact.js';
import { ApprovalStore } from '../../domain/approval/approvalStore.js';
import type { ApprovalRecord } from '../../domain/approval/approvalStore.js';
import { approvalRequestMessage, buildFailedMessage } from '../../domain/approval/messages.js';
import { approvalSettings, runView } from '../../domain/approval/settings.js';
import type { SlackApi } from '../../domain/approval/slackClient.js';
import { digestFingerprint, signToken } from '../../domain/approval/token.js';

export type ApprovalRequestDeps = {
  ledger: RunLedger;
  bus: Bus;
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

/** How long one delivery may spend posting before a redelivery takes over (see `ApprovalStore.beginRequest`). */
export const POST_LEASE_MS = 30_000;

type RecordedBuild = RunRecord['builds'][string];

/**
 * `build-finished` → approval. Each message records its service's result in the run (an
 * idempotent merge: the first terminal result per service stands), then looks at the whole
 * run: all services succeeded → the question goes to Slack once; any failed → one failure
 * message, the build stage failed and the approval skipped; otherwise it waits for the rest.
 * Duplicated and shuffled messages converge on the same single outcome.
 */
export async function handleBuildFinished(event: BuildFinished, deps: ApprovalRequestDeps): Promise<void> {
  const log = deps.log.child({ stage: 'approvalRequest', runId: event.runId, pipeline: event.pipeline });
  const run = await deps.ledger.updateRun(event.runId, (current) => mergeBuild(current, event));
  if (!run) {
    log.warn('ignored build-finished for a run the ledger does not know', { service: event.service, buildId: event.buildId });
    return;
  }
  if (run.after !== event.sha || run.pipeline !== event.pipeline) {
    log.warn('ignored build-finished for another commit or pipeline than the run', { service: event.service, sha: event.sha });
    return;
  }
  if (run.services.length === 0) {
    log.info('the run does not list its services yet; waiting', { service: event.service });
    return;
  }
  const builds = run.services.map((service) => ({ service, build: run.builds[service] }));
  const failed = builds.filter(({ build }) => build && isTerminalStatus(build.status) && (build.status !== 'SUCCESS' || !build.image));
  if (failed.length > 0) return reportFailure(run, failed.map(({ service }) => service), deps, log);
  if (builds.some(({ build }) => !build || !isTerminalStatus(build.status))) {
    log.info('waiting for the run\'s other builds', { service: event.service, finished: builds.filter(({ build }) => build).length, of: builds.length });
    return;
  }
  await requestApproval(run, deps, log);
}

function isTerminalStatus(status: string): boolean {
  return isTerminal(status as Parameters<typeof isTerminal>[0]);
}

/** Records one build's terminal result; a service's first terminal result stands. */
export function mergeBuild(run: RunRecord, event: BuildFinished): RunRecord | undefined {
  if (!run.services.includes(event.service) && run.services.length > 0) return undefined;
  const existing = run.builds[event.service];
  if (existing && isTerminalStatus(existing.status)) return undefined;
  const build: RecordedBuild & { planSummary?: unknown } = {
    buildId: event.buildId,
    status: event.status,
    ...(event.image ? { image: { repository: event.image.repository, tag: event.image.tag, digest: event.image.digest } } : {}),
    ...(event.logUrl ?? existing?.logUrl ? { logUrl: event.logUrl ?? existing?.logUrl } : {}),
    ...(event.detail ? { detail: event.detail } : {}),
    ...(event.planSummary ? { planSummary: event.planSummary } : {}),
  };
  run.builds[event.service] = build;
  return run;
}

async function requestApproval(run: RunRecord, deps: ApprovalRequestDeps, log: Logger): Promise<void> {
  const settings = approvalSettings(deps.config, run.pipeline, deps.env);
  const problem = !findPipeline(deps.config, run.pipeline)
    ? `pipeline ${run.pipeline} is not in ${deps.config.file}`
    : deps.tokenSecrets.length === 0
      ? 'BATON_APPROVAL_SECRET is not set, so the buttons cannot be signed'
      : deps.slack && !settings.channel
        ? `no Slack channel: set SLACK_CHANNEL or pipelines[${deps.config.pipelines.findIndex((p) => p.name === run.pipeline)}].approval.channel in ${deps.config.file}`
        : undefined;
  if (problem) {
    // A configuration problem: retrying cannot fix it, so the run is closed and says why.
    log.error('failed to request approval', { reason: problem });
    await deps.ledger.recordStage(run.runId, 'approval', { status: 'failed', detail: `failed to request approval: ${problem}` });
    return;
  }

  const approvals = new ApprovalStore(deps.ledger);
  const now = deps.now();
  const lease = await approvals.beginRequest({ runId: run.runId, pipeline: run.pipeline, sha: run.after, seq: run.seq }, now, POST_LEASE_MS);
  if (lease.state === 'in-progress') throw new Error(`failed to request approval for run ${run.runId}: another delivery is posting it; retrying later`);
  if (lease.state === 'done') {
    // Posted before; finish the announcement in case that delivery stopped short of it.
    if (lease.record.status === 'waiting') await announce(lease.record, deps);
    return;
  }

  const images: BuiltImage[] = run.services.map((service) => ({ service, ...run.builds[service]!.image! }));
  // A whole second, so the tokens (which carry seconds) and the request expire at the same instant.
  const exp = Math.ceil(now.getTime() / 1000) + settings.ttlSeconds;
  const expiresAt = new Date(exp * 1000).toISOString();
  const fingerprint = digestFingerprint(images);
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
  const record = await approvals.completeRequest(run.runId, { images, channel: posted.channel, ts: posted.ts, requestedAt: now.toISOString(), expiresAt });
  await deps.ledger.recordStage(run.runId, 'build', { status: 'succeeded', detail: `${images.length} image(s) built` });
  await deps.ledger.recordStage(run.runId, 'approval', {
    status: 'waiting',
    detail: posted.ts ? `asked in Slack (channel ${posted.channel}, message ${posted.ts}); expires ${expiresAt}` : `waiting for \`baton approve ${run.runId}\`; expires ${expiresAt}`,
  });
  if (record) await announce(record, deps);
  log.info('requested approval', { channel: posted.channel, ts: posted.ts, services: run.services, expiresAt });
}

/** Publishes `approval-requested` once per run (its own claim; released if publishing fails, for the retry). */
async function announce(record: ApprovalRecord, deps: ApprovalRequestDeps): Promise<void> {
  try {
    await publishOnce(deps, `approval-requested:${record.runId}`, 'approval-requested', {
      runId: record.runId,
      pipeline: record.pipeline,
      channel: record.channel,
      ts: record.ts,
      images: record.images,
      expiresAt: record.expiresAt,
    }, { runId: record.runId });
  } catch (error) {
    throw redactedError(`failed to publish approval-requested for run ${record.runId}`, error);
  }
}

/** A build failed: the stage timeline says so, and Slack gets one message without buttons. */
async function reportFailure(run: RunRecord, failed: string[], deps: ApprovalRequestDeps, log: Logger): Promise<void> {
  const why = failed.map((service) => `${service}: ${run.builds[service]?.status}${run.builds[service]?.detail ? ` (${run.builds[service]!.detail})` : ''}`).join('; ');
  await deps.ledger.recordStage(run.runId, 'build', { status: 'failed', detail: why });
  await deps.ledger.recordStage(run.runId, 'approval', { status: 'skipped', detail: 'a build failed' });
  const channel = approvalSettings(deps.config, run.pipeline, deps.env).channel;
  if (!deps.slack || !channel) return;
  const key = `approval-failure:${run.runId}`;
  if (!(await deps.ledger.claim(key, { runId: run.runId }))) return;
  try {
    await deps.slack.postMessage(channel, buildFailedMessage(runView(run)));
  } catch (error) {
    await deps.ledger.releaseClaim(key).catch(() => undefined);
    throw redactedError(`failed to post the build failure for run ${run.runId}`, error);
  }
  log.info('reported a failed build', { failed });
}
