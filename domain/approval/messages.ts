import type { Decider, PlanSummary } from '../../shared/contracts/index.js';
import type { ClosingDecision } from '../../shared/ledger/approvals.js';

/**
 * The Slack messages, as Block Kit. Pure functions of what they show, so the demo can print
 * them and tests can read them. Every value from a push (branch, commit message, names) is
 * escaped: Slack's mrkdwn treats `<`, `>` and `&` as control characters.
 */
export type Block = Record<string, unknown>;
export type SlackMessage = { text: string; blocks: Block[] };

/** The action ids of the two buttons; the callback routes on them. */
export const APPROVE_ACTION = 'baton.approve';
export const REJECT_ACTION = 'baton.reject';
export const ACTIONS_BLOCK = 'baton.decision';

/** Everything a run's messages show. */
export type RunView = {
  runId: string;
  pipeline: string;
  kind: 'app' | 'terraform';
  repository: string;
  branch: string;
  sha: string;
  pusher: { name: string; email?: string; username?: string };
  headMessage?: string;
  compareUrl?: string;
  /** One row per service: its image (when built), status and log link. */
  services: Array<{
    service: string;
    status: string;
    image?: { repository: string; tag: string; digest: string };
    logUrl?: string;
    detail?: string;
    planSummary?: PlanSummary;
  }>;
  /** The environment a message is about, for a pipeline with environments (messages name it). */
  environment?: string;
  /** The release going there: the built images and those kept from the environment's last release. */
  release?: Array<{ service: string; tag: string; digest: string; builtBy?: { runId: string } }>;
  /** A retry (`baton retry`): approvers see which attempt this is, who asked and why. */
  retry?: { runId: string; attempt: number; by: string; reason?: string };
};

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A link in mrkdwn, or the bare label when there is no URL (or one that could break the markup). */
function link(url: string | undefined, label: string): string {
  if (!url || /[<>|\s]/.test(url)) return escapeMrkdwn(label);
  return `<${url}|${escapeMrkdwn(label)}>`;
}

const section = (text: string): Block => ({ type: 'section', text: { type: 'mrkdwn', text } });
const context = (text: string): Block => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });

function runFacts(view: RunView): Block {
  const commit = `\`${view.sha.slice(0, 12)}\`${view.headMessage ? ` ${escapeMrkdwn(view.headMessage.slice(0, 150))}` : ''}`;
  return {
    type: 'section',
    fields: [
      { type: 'mrkdwn', text: `*Repository*\n${escapeMrkdwn(view.repository)}` },
      { type: 'mrkdwn', text: `*Branch*\n${escapeMrkdwn(view.branch)}` },
      { type: 'mrkdwn', text: `*Commit*\n${commit}` },
      { type: 'mrkdwn', text: `*Author*\n${escapeMrkdwn(view.pusher.name)}${view.pusher.email ? ` (${escapeMrkdwn(view.pusher.email)})` : ''}` },
    ],
  };
}

function planLine(plan: PlanSummary): string {
  const destroyed = plan.destroyed?.length ? `; destroys ${plan.destroyed.slice(0, 10).map((name) => `\`${escapeMrkdwn(name)}\``).join(', ')}` : '';
  return `plan: +${plan.add} ~${plan.change} -${plan.destroy}${destroyed}`;
}

function serviceLines(view: RunView): string {
  return view.services
    .map((row) => {
      const what = row.image ? `\`${row.image.digest}\` (tag \`${escapeMrkdwn(row.image.tag)}\`)` : escapeMrkdwn(row.status);
      const plan = row.planSummary ? `\n    ${planLine(row.planSummary)}` : '';
      const detail = !row.image && row.detail ? ` — ${escapeMrkdwn(row.detail.slice(0, 200))}` : '';
      return `• *${escapeMrkdwn(row.service)}* ${what}${detail} · ${link(row.logUrl, 'build logs')}${plan}`;
    })
    .join('\n');
}

/** The release an environment approval covers: what this run built, and what it keeps. */
function releaseLines(view: RunView): string {
  if (!view.release?.length) return serviceLines(view);
  return view.release
    .map((image) => `• *${escapeMrkdwn(image.service)}* \`${image.digest}\` (tag \`${escapeMrkdwn(image.tag)}\`)${image.builtBy ? ` · kept from run \`${escapeMrkdwn(image.builtBy.runId)}\`` : ' · built by this run'}`)
    .join('\n');
}

/** "Deploy", or "Deploy to prod" for a pipeline with environments. */
function deployWhat(view: RunView, bold = false): string {
  if (view.kind === 'terraform') return 'Terraform apply';
  if (!view.environment) return 'Deploy';
  return `Deploy to ${bold ? `*${escapeMrkdwn(view.environment)}*` : view.environment}`;
}

function linksLine(view: RunView): string {
  const retry = view.retry && `attempt ${view.retry.attempt} of run \`${escapeMrkdwn(view.retry.runId)}\`, retried by ${escapeMrkdwn(view.retry.by)}${view.retry.reason ? `: ${escapeMrkdwn(view.retry.reason.slice(0, 200))}` : ''}`;
  return [view.compareUrl ? link(view.compareUrl, 'Compare changes') : undefined, `run \`${escapeMrkdwn(view.runId)}\``, retry].filter(Boolean).join(' · ');
}

/** Slack's date token: shown in each reader's time zone, with the ISO time as fallback. */
function slackDate(iso: string): string {
  return `<!date^${Math.floor(Date.parse(iso) / 1000)}^{date_short_pretty} {time}|${iso}>`;
}

/** The question: what was built, and the two buttons carrying the signed tokens. */
export function approvalRequestMessage(view: RunView, tokens: { approve: string; reject: string }, expiresAt: string): SlackMessage {
  const what = deployWhat(view);
  return {
    text: `${what} approval needed: ${view.pipeline} ${view.branch} ${view.sha.slice(0, 7)} (run ${view.runId})`,
    blocks: [
      section(`*${deployWhat(view, true)} approval needed* for *${escapeMrkdwn(view.pipeline)}*`),
      runFacts(view),
      section(`*${view.release?.length ? 'Release' : 'Images'}*\n${releaseLines(view)}`),
      context(`${linksLine(view)} · expires ${slackDate(expiresAt)}`),
      {
        type: 'actions',
        block_id: ACTIONS_BLOCK,
        elements: [
          {
            type: 'button',
            action_id: APPROVE_ACTION,
            text: { type: 'plain_text', text: 'Approve' },
            style: 'primary',
            value: tokens.approve,
            confirm: {
              title: { type: 'plain_text', text: 'Deploy these digests?' },
              text: { type: 'mrkdwn', text: `${what} run ${escapeMrkdwn(view.runId)} with the images shown.` },
              confirm: { type: 'plain_text', text: 'Approve' },
              deny: { type: 'plain_text', text: 'Cancel' },
            },
          },
          { type: 'button', action_id: REJECT_ACTION, text: { type: 'plain_text', text: 'Reject' }, style: 'danger', value: tokens.reject },
        ],
      },
    ],
  };
}

/** A build failed: the same facts, which builds failed and why, and no buttons. */
export function buildFailedMessage(view: RunView): SlackMessage {
  const failed = view.services.filter((row) => row.status !== 'SUCCESS' && row.status !== 'pending').map((row) => row.service);
  return {
    text: `Build failed: ${view.pipeline} ${view.branch} ${view.sha.slice(0, 7)} (${failed.join(', ')}; run ${view.runId}); nothing will be deployed`,
    blocks: [
      section(`:x: *Build failed* for *${escapeMrkdwn(view.pipeline)}*: ${failed.map(escapeMrkdwn).join(', ')}. Nothing will be deployed.`),
      runFacts(view),
      section(`*Builds*\n${serviceLines(view)}`),
      context(linksLine(view)),
    ],
  };
}

function deciderText(decider: Decider): string {
  if (decider.via === 'slack') return `<@${decider.id}>`;
  if (decider.via === 'system') return 'baton';
  return `${escapeMrkdwn(decider.name ?? decider.id)} (${decider.via})`;
}

const OUTCOME_TEXT: Record<ClosingDecision, string> = {
  approved: ':white_check_mark: *Approved*',
  rejected: ':no_entry: *Rejected*',
  expired: ':hourglass: *Expired* undecided',
  superseded: ':fast_forward: *Superseded* by a newer deploy',
  canceled: ':octagonal_sign: *Canceled*: the run was stopped',
  'run-ended': ':black_circle: *Closed*: the run ended first',
};

/** The question after it is closed: the buttons replaced by who decided, how and when. */
export function decidedMessage(
  view: RunView,
  decision: { decision: ClosingDecision; decidedBy: Decider; decidedAt: string; reason?: string },
): SlackMessage {
  const by = decision.decision === 'approved' || decision.decision === 'rejected' ? ` by ${deciderText(decision.decidedBy)}` : '';
  const reason = decision.reason ? `: ${escapeMrkdwn(decision.reason.slice(0, 300))}` : '';
  const line = `${OUTCOME_TEXT[decision.decision]}${by} at ${slackDate(decision.decidedAt)}${reason}`;
  const where = view.environment ? ` to ${view.environment}` : '';
  return {
    text: `${view.pipeline} run ${view.runId}${where}: ${decision.decision}${by ? ` by ${decision.decidedBy.name ?? decision.decidedBy.id}` : ''} at ${decision.decidedAt}`,
    blocks: [
      section(`*${escapeMrkdwn(view.pipeline)}* run \`${escapeMrkdwn(view.runId)}\`${view.environment ? ` · ${deployWhat(view, true)}` : ''}`),
      runFacts(view),
      section(`*${view.release?.length ? 'Release' : 'Images'}*\n${releaseLines(view)}`),
      section(line),
      context(linksLine(view)),
    ],
  };
}

/** A check failed after a deploy: which one, with the value that failed it, and what baton did about it. */
export function verificationFailedMessage(
  view: RunView & { environment: string },
  failure: { reason: string; checks: ReadonlyArray<{ name: string; ok: boolean; value: number | null; reason?: string; service?: string }>; rollback?: { runId: string; toRunId: string } },
): SlackMessage {
  const failed = failure.checks.filter((check) => !check.ok);
  const lines = failed.map((check) => `• *${escapeMrkdwn(check.name)}*${check.service ? ` (${escapeMrkdwn(check.service)})` : ''}: ${escapeMrkdwn(check.reason ?? `value ${check.value}`)}`);
  const action = failure.rollback
    ? `Rolling ${escapeMrkdwn(view.environment)} back to run \`${escapeMrkdwn(failure.rollback.toRunId)}\`'s release (rollback run \`${escapeMrkdwn(failure.rollback.runId)}\`). Later environments are not promoted.`
    : `There is no earlier release of ${escapeMrkdwn(view.environment)} to roll back to; it is left as it is. Later environments are not promoted.`;
  return {
    text: `Verification failed in ${view.environment}: ${view.pipeline} run ${view.runId} (${failed.map((check) => `${check.name}: ${check.reason ?? check.value}`).join('; ') || failure.reason})`,
    blocks: [
      section(`:rotating_light: *Verification failed in ${escapeMrkdwn(view.environment)}* for *${escapeMrkdwn(view.pipeline)}*`),
      runFacts(view),
      section(`*Failed checks*\n${lines.join('\n') || escapeMrkdwn(failure.reason)}`),
      section(action),
      context(linksLine(view)),
    ],
  };
}
