import type { Bus } from '../../shared/bus/bus.js';
import { publishEvent } from '../../shared/bus/events.js';
import type { BatonConfig } from '../../shared/config/pipelineConfig.js';
import type { ApprovalDecided, Decider } from '../../shared/contracts/index.js';
import type { RunLedger, RunRecord, StageStatus } from '../../shared/ledger/runLedger.js';
import type { Logger } from '../../shared/log/logger.js';
import { redactedError } from '../../shared/log/redact.js';
import { ApprovalStore } from './approvalStore.js';
import type { ApprovalRecord, ClosingDecision, DecisionRecord } from './approvalStore.js';
import { isApprover, isPusher } from './identity.js';
import type { DeciderIdentity } from './identity.js';
import { approvalSettings } from './settings.js';
import { digestFingerprint, verifyToken } from './token.js';
import type { ApprovalAction } from './token.js';

/**
 * The one decision path. Slack's buttons, `baton approve|reject` and Jenkins' input step (which
 * calls the CLI) all come through `decide()`, so the same rules hold whoever decides: only
 * listed approvers, never a superseded or expired run, optionally never the pusher, and the
 * first decision wins by a create-if-absent claim (`decision:<runId>`), which publishes exactly
 * one `approval-decided`.
 */
export type DecideDeps = {
  ledger: RunLedger;
  bus: Bus;
  config: BatonConfig;
  /** `SLACK_APPROVERS` (and `SLACK_CHANNEL`): the defaults when a pipeline's config sets none. */
  env: { SLACK_APPROVERS?: string; SLACK_CHANNEL?: string };
  /** `BATON_APPROVAL_SECRET`'s keys; needed to check a button token. */
  tokenSecrets: readonly string[];
  now: () => Date;
  log: Logger;
  /** Shows a closed decision on the Slack message. Its failure is logged; it never undoes a decision. */
  onClosed?: (record: ApprovalRecord, run: RunRecord, decision: DecisionRecord) => Promise<void>;
};

export type DecisionRequest = {
  runId: string;
  action: ApprovalAction;
  decider: Decider;
  /**
   * What is known of the decider, for the self-approval rule; `unknown` when a lookup failed. A
   * function is called only when the rule applies (it costs Slack a `users.info` call).
   */
  identity?: DeciderIdentity | 'unknown' | (() => Promise<DeciderIdentity | 'unknown'>);
  /** The button's token. Required for Slack; a CLI or Jenkins decider has none. */
  token?: string;
  reason?: string;
};

export type DecisionOutcome =
  | { outcome: 'decided'; decision: 'approved' | 'rejected'; event: ApprovalDecided; message: string }
  | { outcome: 'already-decided'; decision: ClosingDecision; decidedBy: Decider; decidedAt: string; message: string }
  | { outcome: 'not-allowed'; message: string }
  | { outcome: 'self-approval'; message: string }
  | { outcome: 'superseded'; service: string; deployedSeq: number; message: string }
  | { outcome: 'expired'; message: string }
  | { outcome: 'bad-token'; reason: string; message: string }
  | { outcome: 'unknown-run'; message: string }
  | { outcome: 'not-awaiting-approval'; message: string };

export type OutcomeName = DecisionOutcome['outcome'];

/** The identity recorded for decisions nobody made (expiry, supersession). */
export const SYSTEM_DECIDER: Decider = { id: 'baton', name: 'baton', via: 'system' };

const STAGE_STATUS: Record<ClosingDecision, StageStatus> = {
  approved: 'succeeded',
  rejected: 'rejected',
  expired: 'expired',
  superseded: 'superseded',
};

export function decisionClaimKey(runId: string): string {
  return `decision:${runId}`;
}

function describe(decider: Decider): string {
  return decider.via === 'system' ? 'baton' : `${decider.name ?? decider.id} via ${decider.via}`;
}

export async function decide(request: DecisionRequest, deps: DecideDeps): Promise<DecisionOutcome> {
  const log = deps.log.child({ stage: 'approval', runId: request.runId });
  const outcome = await evaluate(request, deps);
  const fields = { outcome: outcome.outcome, action: request.action, decider: request.decider.id, via: request.decider.via };
  if (outcome.outcome === 'decided') log.info('recorded a decision', { ...fields, decision: outcome.decision });
  else log.warn('refused a decision', { ...fields, reason: outcome.message });
  return outcome;
}

async function evaluate(request: DecisionRequest, deps: DecideDeps): Promise<DecisionOutcome> {
  const { runId, decider } = request;
  const now = deps.now();
  const approvals = new ApprovalStore(deps.ledger);
  if (decider.via === 'system') return { outcome: 'not-allowed', message: 'system decisions are made only by the expiry sweep' };

  const run = await deps.ledger.getRun(runId);
  if (!run) return { outcome: 'unknown-run', message: `run ${runId} is unknown` };

  const settings = approvalSettings(deps.config, run.pipeline, deps.env);
  if (!isApprover(settings.approvers, decider)) {
    return { outcome: 'not-allowed', message: `you are not allowed to approve or reject ${run.pipeline} runs` };
  }

  const record = await approvals.get(runId);
  if (!record || record.status === 'posting') return { outcome: 'not-awaiting-approval', message: `run ${runId} is not awaiting approval` };

  if (request.token !== undefined || decider.via === 'slack') {
    const check = verifyToken(request.token ?? '', deps.tokenSecrets, {
      runId,
      action: request.action,
      fingerprint: digestFingerprint(record.images),
      now,
    });
    // An expired token is handled below with the request's own expiry, which it mirrors.
    if (!check.ok && check.reason !== 'expired') {
      return { outcome: 'bad-token', reason: check.reason, message: `the button does not match run ${runId} and the images it showed (${check.reason})` };
    }
  }

  const earlier = await existingDecision(runId, deps);
  if (earlier) return alreadyDecided(earlier);

  if (now.getTime() >= Date.parse(record.expiresAt)) {
    const closed = await close(run, record, 'expired', SYSTEM_DECIDER, deps);
    if (!closed.won) return alreadyDecided(closed.existing);
    return { outcome: 'expired', message: `the approval request for run ${runId} expired at ${record.expiresAt}` };
  }

  const newer = await newerDeploy(run, record, deps.ledger);
  if (newer) {
    const closed = await close(run, record, 'superseded', SYSTEM_DECIDER, deps, `service ${newer.service} already runs a newer deploy (#${newer.deployedSeq})`);
    if (!closed.won) return alreadyDecided(closed.existing);
    return {
      outcome: 'superseded',
      ...newer,
      message: `run ${runId} (#${run.seq}) is superseded: ${newer.service} already runs a newer deploy (#${newer.deployedSeq})`,
    };
  }

  if (request.action === 'approve' && !settings.allowSelfApproval) {
    const identity = typeof request.identity === 'function' ? await request.identity() : request.identity;
    const self = isPusher(run.pusher, decider, identity);
    if (self !== false) {
      return {
        outcome: 'self-approval',
        message: self === 'unknown' ? 'your identity could not be checked against the pusher, and self-approval is not allowed here' : 'you pushed this run, and self-approval is not allowed here',
      };
    }
  }

  const decision = request.action === 'approve' ? 'approved' : 'rejected';
  const closed = await close(run, record, decision, decider, deps, request.reason);
  if (!closed.won) return alreadyDecided(closed.existing);
  return { outcome: 'decided', decision, event: closed.event!, message: `${decision} run ${runId} as ${describe(decider)}` };
}

function alreadyDecided(existing: DecisionRecord): DecisionOutcome {
  return {
    outcome: 'already-decided',
    decision: existing.decision,
    decidedBy: existing.decidedBy,
    decidedAt: existing.decidedAt,
    message: `run ${existing.runId} was already ${existing.decision}${existing.decidedBy.via === 'system' ? '' : ` by ${describe(existing.decidedBy)}`} at ${existing.decidedAt}`,
  };
}

async function existingDecision(runId: string, deps: DecideDeps): Promise<DecisionRecord | undefined> {
  return deps.ledger.getClaim<DecisionRecord & { key: string; at: string }>(decisionClaimKey(runId));
}

/** A service of the run that a newer run has already deployed, if any. */
async function newerDeploy(run: RunRecord, record: ApprovalRecord, ledger: RunLedger): Promise<{ service: string; deployedSeq: number } | undefined> {
  const services = record.images.length ? record.images.map((image) => image.service) : run.services;
  for (const service of services) {
    const deployedSeq = await ledger.deployedSeq(run.pipeline, service);
    if (deployedSeq > record.seq) return { service, deployedSeq };
  }
  return undefined;
}

type Closed = { won: true; event?: ApprovalDecided } | { won: false; existing: DecisionRecord };

/**
 * Closes the request once: the decision claim first (only one caller wins), then the event,
 * the stage and the message. If publishing fails the claim is released, since nothing has
 * happened yet and the decider can try again; a crash between claim and publish is repaired by
 * the expiry sweep (`republishStuck`).
 */
async function close(run: RunRecord, record: ApprovalRecord, decision: ClosingDecision, decidedBy: Decider, deps: DecideDeps, reason?: string): Promise<Closed> {
  const key = decisionClaimKey(run.runId);
  const value: DecisionRecord = {
    runId: run.runId,
    decision,
    decidedBy,
    decidedAt: deps.now().toISOString(),
    ...(reason ? { reason } : {}),
  };
  if (!(await deps.ledger.claim(key, value))) {
    const existing = await existingDecision(run.runId, deps);
    // The claim vanishes only when its holder failed to publish and released it; say so plainly.
    return { won: false, existing: existing ?? { ...value, decidedBy: SYSTEM_DECIDER, decision } };
  }
  let event: ApprovalDecided | undefined;
  try {
    event = await publishDecision(record, value, deps.bus);
  } catch (error) {
    await deps.ledger.releaseClaim(key).catch(() => undefined);
    throw redactedError(`failed to publish approval-decided for run ${run.runId}`, error);
  }
  await finish(run, record, value, deps);
  return { won: true, event };
}

/** Publishes `approval-decided` for an approved, rejected or expired run (a superseded one deploys nothing and publishes nothing). */
async function publishDecision(record: ApprovalRecord, decision: DecisionRecord, bus: Bus): Promise<ApprovalDecided | undefined> {
  if (decision.decision === 'superseded') return undefined;
  return publishEvent(bus, 'approval-decided', {
    runId: record.runId,
    pipeline: record.pipeline,
    decision: decision.decision,
    decidedBy: decision.decidedBy,
    images: record.images,
    sha: record.sha,
    seq: record.seq,
    ...(decision.reason ? { reason: decision.reason } : {}),
  });
}

async function finish(run: RunRecord, record: ApprovalRecord, decision: DecisionRecord, deps: DecideDeps): Promise<void> {
  await deps.ledger.recordStage(run.runId, 'approval', {
    status: STAGE_STATUS[decision.decision],
    detail: `${decision.decision}${decision.decision === 'approved' || decision.decision === 'rejected' ? ` by ${describe(decision.decidedBy)}` : ''}${decision.reason ? `: ${decision.reason}` : ''}`,
    at: new Date(decision.decidedAt),
  });
  const closed = (await new ApprovalStore(deps.ledger).markDecided(decision)) ?? record;
  if (deps.onClosed) {
    await deps.onClosed(closed, run, decision).catch((error: unknown) => deps.log.warn('failed to show the decision in Slack', { runId: run.runId, error }));
  }
}

/** Expires one request (the sweep's path): a no-op when it was decided meanwhile. */
export async function expireRun(runId: string, deps: DecideDeps): Promise<'expired' | 'not-open'> {
  const run = await deps.ledger.getRun(runId);
  const record = await new ApprovalStore(deps.ledger).get(runId);
  if (!run || record?.status !== 'waiting') return 'not-open';
  const closed = await close(run, record, 'expired', SYSTEM_DECIDER, deps);
  return closed.won ? 'expired' : 'not-open';
}

/**
 * Finishes a decision whose claim was taken but whose holder stopped before closing the
 * request (a crash between claim and publish). Republishing is safe: consumers are idempotent.
 */
export async function republishStuck(runId: string, deps: DecideDeps, olderThanMs: number): Promise<boolean> {
  const claim = await existingDecision(runId, deps);
  const record = await new ApprovalStore(deps.ledger).get(runId);
  const run = await deps.ledger.getRun(runId);
  if (!claim || !record || !run || record.status !== 'waiting') return false;
  if (deps.now().getTime() - Date.parse(claim.decidedAt) < olderThanMs) return false;
  await publishDecision(record, claim, deps.bus);
  await finish(run, record, claim, deps);
  return true;
}
