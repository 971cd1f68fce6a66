import type { BatonConfig } from '../../shared/config/pipelineConfig.js';
import type { ApprovalDecided, Decider } from '../../shared/contracts/index.js';
import { IMPLICIT_ENVIRONMENT } from '../../shared/contracts/index.js';
import { outboxKey } from '../environments/keys.js';
import type { ApprovalRecord, ClosingDecision, DecisionRecord } from '../../shared/ledger/approvals.js';
import type { RunLedger, RunRecord, StageStatus } from '../../shared/ledger/runLedger.js';
import type { Logger } from '../../shared/log/logger.js';
import type { StageRuntime } from '../../shared/stage/declaration.js';
import { isApprover, isPusher } from './identity.js';
import type { DeciderIdentity } from './identity.js';
import { approvalSettings } from './settings.js';
import { boundArtifacts, digestFingerprint, verifyToken } from './token.js';
import type { ApprovalAction } from './token.js';

/**
 * The one decision path. Slack's buttons, `baton approve|reject` and Jenkins' input step (which
 * calls the CLI) all come through `decide()`, so the same rules hold whoever decides: only
 * listed approvers, never a superseded or expired run, optionally never the pusher, and the
 * first decision wins: it is written on the run, with the approval stage and its
 * `approval-decided` event, in one conditional write, so a run has exactly one.
 */
export type DecideDeps = {
  ledger: RunLedger;
  /** Records the decision as the approval stage's outcome (the stage runner's `record`). */
  record: StageRuntime<'approval-decided'>['record'];
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
  /** The environment whose approval this decides. Default the implicit one. */
  environment?: string;
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
  | { outcome: 'superseded'; service: string; deployedRun: string; message: string }
  | { outcome: 'expired'; message: string }
  | { outcome: 'bad-token'; reason: string; message: string }
  | { outcome: 'unknown-run'; message: string }
  | { outcome: 'not-awaiting-approval'; message: string };

export type OutcomeName = DecisionOutcome['outcome'];

/** The identity recorded for decisions nobody made (expiry, supersession). */
export const SYSTEM_DECIDER: Decider = { id: 'baton', name: 'baton', via: 'system' };

/** The decisions that move the run (the others close a request whose run has already ended). */
type RunDecision = Exclude<ClosingDecision, 'canceled' | 'run-ended'>;

const STAGE_STATUS: Record<RunDecision, StageStatus> = {
  approved: 'succeeded',
  rejected: 'rejected',
  expired: 'expired',
  superseded: 'superseded',
};

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
  const environment = request.environment ?? IMPLICIT_ENVIRONMENT;
  const now = deps.now();
  const approvals = deps.ledger.approvals;
  if (decider.via === 'system') return { outcome: 'not-allowed', message: 'system decisions are made only by the expiry sweep' };

  const run = await deps.ledger.getRun(runId);
  if (!run) return { outcome: 'unknown-run', message: `run ${runId} is unknown` };

  const settings = approvalSettings(deps.config, run.pipeline, deps.env, environment);
  const where = environment === IMPLICIT_ENVIRONMENT ? '' : ` to ${environment}`;
  if (!isApprover(settings.approvers, decider)) {
    return { outcome: 'not-allowed', message: `you are not allowed to approve or reject ${run.pipeline} deploys${where}` };
  }

  const existing = run.decisions?.[environment];
  if (existing) return alreadyDecided(existing);
  const record = await approvals.get(runId, environment);
  if (!record || record.status === 'posting' || run.status !== 'running') return { outcome: 'not-awaiting-approval', message: `run ${runId} is not awaiting approval${where}${run.status !== 'running' ? ` (it has ${run.status})` : ''}` };

  if (request.token !== undefined || decider.via === 'slack') {
    const check = verifyToken(request.token ?? '', deps.tokenSecrets, {
      runId,
      action: request.action,
      fingerprint: digestFingerprint(boundArtifacts(record.images, record.plan, environment)),
      now,
    });
    // An expired token is handled below with the request's own expiry, which it mirrors.
    if (!check.ok && check.reason !== 'expired') {
      return { outcome: 'bad-token', reason: check.reason, message: `the button does not match run ${runId} and the images it showed (${check.reason})` };
    }
  }

  if (now.getTime() >= Date.parse(record.expiresAt)) {
    const closed = await close(run, record, 'expired', SYSTEM_DECIDER, deps);
    if (!closed.won) return lost(runId, closed);
    return { outcome: 'expired', message: `the approval request for run ${runId} expired at ${record.expiresAt}` };
  }

  const newer = await newerDeploy(run, record, environment, deps.ledger);
  if (newer) {
    const closed = await close(run, record, 'superseded', SYSTEM_DECIDER, deps, `service ${newer.service} already runs a newer deploy (${newer.deployedRun})`);
    if (!closed.won) return lost(runId, closed);
    return {
      outcome: 'superseded',
      ...newer,
      message: `run ${runId} is superseded: ${newer.service} already runs a newer deploy (${newer.deployedRun})`,
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
  if (!closed.won) return lost(runId, closed);
  return { outcome: 'decided', decision, event: closed.event!, message: `${decision} run ${runId} as ${describe(decider)}` };
}

/** Someone else's decision got there first, or the run ended meanwhile. */
function lost(runId: string, closed: Extract<Closed, { won: false }>): DecisionOutcome {
  if (closed.existing) return alreadyDecided(closed.existing);
  return { outcome: 'not-awaiting-approval', message: `run ${runId} is not awaiting approval (it has ${closed.status ?? 'gone'})` };
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

/** A service the run built that a newer run has already deployed to the environment, if any. */
async function newerDeploy(run: RunRecord, record: ApprovalRecord, environment: string, ledger: RunLedger): Promise<{ service: string; deployedRun: string } | undefined> {
  // Only what this run built: what it kept from an earlier release is older by definition.
  const services = record.images.length ? record.images.filter((image) => !image.builtBy).map((image) => image.service) : run.services;
  for (const service of services) {
    const deployed = await ledger.deployed(run.pipeline, service, environment);
    if (deployed && deployed.order > record.order) return { service, deployedRun: deployed.runId };
  }
  return undefined;
}

type Closed = { won: true; event?: ApprovalDecided } | { won: false; existing: DecisionRecord | undefined; status: RunRecord['status'] | undefined };

/**
 * Closes the request once: the decision, the approval stage and the `approval-decided` event
 * are one conditional write of the run (the first decision wins; a run that has ended takes
 * none), published right after. Then the request and the Slack message show it; should the
 * process die before that, the expiry sweep finishes it, and the reconciler republishes the event.
 */
async function close(run: RunRecord, record: ApprovalRecord, decision: RunDecision, decidedBy: Decider, deps: DecideDeps, reason?: string): Promise<Closed> {
  const environment = record.environment ?? IMPLICIT_ENVIRONMENT;
  const value: DecisionRecord = {
    runId: run.runId,
    ...(environment === IMPLICIT_ENVIRONMENT ? {} : { environment }),
    decision,
    decidedBy,
    decidedAt: deps.now().toISOString(),
    ...(reason ? { reason } : {}),
  };
  const outcome: Parameters<DecideDeps['record']>[1] = {
    status: STAGE_STATUS[decision],
    detail: `${decision}${decision === 'approved' || decision === 'rejected' ? ` by ${describe(decidedBy)}` : ''}${reason ? `: ${reason}` : ''}`,
    environment,
    when: (current) => current.decisions?.[environment] === undefined,
    update: (current) => {
      current.decisions = { ...current.decisions, [environment]: value };
      return true;
    },
    // A superseded run deploys nothing, so it says nothing.
    emit:
      decision === 'superseded'
        ? []
        : [
            {
              topic: 'approval-decided',
              key: outboxKey('approval-decided', environment),
              input: {
                runId: record.runId,
                pipeline: record.pipeline,
                decision,
                decidedBy,
                images: record.images,
                ...(record.plan ? { plan: record.plan } : {}),
                sha: record.sha,
                order: record.order,
                ...(reason ? { reason } : {}),
                environment,
                kind: 'promotion',
              },
            },
          ],
  };
  // "After the approval is recorded": written with its event, which is not published yet.
  const { run: after, applied } = await deps.record(run.runId, outcome, { afterWrite: 'approval:after-record' });
  if (!applied) return { won: false, existing: after?.decisions?.[environment], status: after?.status };
  await finish(after ?? run, record, value, deps);
  const event = after?.outbox[outboxKey('approval-decided', environment)]?.event as ApprovalDecided | undefined;
  return { won: true, ...(event ? { event } : {}) };
}

/** Shows a recorded decision on the request and in Slack (repeatable: the expiry sweep finishes interrupted ones). */
export async function finish(run: RunRecord, record: ApprovalRecord, decision: DecisionRecord, deps: Pick<DecideDeps, 'ledger' | 'onClosed' | 'log'>): Promise<void> {
  const { record: closed } = await deps.ledger.approvals.markDecided(decision);
  await showClosed(closed ?? record, run, decision, deps);
}

/** Shows a closed request in Slack. A failure is logged, not thrown: the request is closed either way. */
export async function showClosed(closed: ApprovalRecord, run: RunRecord, decision: DecisionRecord, deps: Pick<DecideDeps, 'onClosed' | 'log'>): Promise<void> {
  await deps.onClosed?.(closed, run, decision).catch((error: unknown) => deps.log.warn('failed to show the decision in Slack', { runId: run.runId, error }));
}

/** Expires one request (the sweep's path): a no-op when it was decided meanwhile. */
export async function expireRun(runId: string, deps: DecideDeps, environment: string = IMPLICIT_ENVIRONMENT): Promise<'expired' | 'not-open'> {
  const run = await deps.ledger.getRun(runId);
  const record = await deps.ledger.approvals.get(runId, environment);
  if (!run || record?.status !== 'waiting' || run.decisions?.[environment]) return 'not-open';
  const closed = await close(run, record, 'expired', SYSTEM_DECIDER, deps);
  return closed.won ? 'expired' : 'not-open';
}
