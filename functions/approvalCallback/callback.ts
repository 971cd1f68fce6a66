import { z } from 'zod';
import type { HttpRequest, HttpResponse } from '../../shared/adapters/http.js';
import type { DecisionOutcome, DecisionRequest } from '../../domain/approval/decide.js';
import type { DeciderIdentity } from '../../domain/approval/identity.js';
import { APPROVE_ACTION, REJECT_ACTION } from '../../domain/approval/messages.js';
import { verifySlackRequest } from '../../domain/approval/slackSignature.js';
import type { SlackApi } from '../../domain/approval/slackClient.js';
import { peekToken } from '../../domain/approval/token.js';
import type { Logger } from '../../shared/log/logger.js';

export type CallbackDeps = {
  /** `SLACK_SIGNING_SECRET` (several, comma-separated, during a rotation). */
  signingSecret?: string;
  /** Tells a refused user why (ephemeral) and looks users up; calls are bounded by a short timeout. */
  slack?: SlackApi;
  decide: (request: DecisionRequest) => Promise<DecisionOutcome>;
  now: () => Date;
  log: Logger;
};

/** The parts of Slack's `block_actions` payload baton reads; the rest is tolerated. */
const BlockActions = z.looseObject({
  type: z.literal('block_actions'),
  user: z.looseObject({ id: z.string().min(1), username: z.string().optional(), name: z.string().optional() }),
  actions: z.array(z.looseObject({ action_id: z.string(), value: z.string().optional() })),
  channel: z.looseObject({ id: z.string() }).optional(),
  container: z.looseObject({ channel_id: z.string().optional(), message_ts: z.string().optional() }).optional(),
});
type BlockActions = z.infer<typeof BlockActions>;

const ok = (): HttpResponse => ({ status: 200, body: '' });

/**
 * Slack's interactive callback for the Approve and Reject buttons. The signature is checked over
 * the raw body before anything is parsed; every request that fails it gets 401 and changes
 * nothing. A signed click goes through `decide()`. Slack ignores the response body of
 * `block_actions`, so the answer is a quick empty 200; a refused user is told why with an
 * ephemeral message, and a decision shows on the original message (`chat.update`).
 */
export async function handleSlackCallback(request: HttpRequest, deps: CallbackDeps): Promise<HttpResponse> {
  const log = deps.log.child({ stage: 'approvalCallback' });
  if (request.method !== 'POST') return { status: 405, body: { error: 'Slack callbacks are POSTed' } };

  const verification = verifySlackRequest(request.headers, request.rawBody, deps.signingSecret, deps.now());
  if (verification !== 'ok') {
    if (verification === 'unconfigured') log.error('SLACK_SIGNING_SECRET is not set; refusing every Slack callback');
    else log.warn('refused a Slack callback', { verification });
    const error = { missing: 'missing Slack signature headers', stale: 'request timestamp outside the 5-minute window', bad: 'signature does not match', unconfigured: 'signature cannot be checked' }[verification];
    return { status: 401, body: { error } };
  }

  let payload: BlockActions;
  try {
    const field = new URLSearchParams(request.rawBody.toString('utf8')).get('payload');
    if (field === null) return { status: 400, body: { error: 'missing form field "payload"' } };
    const parsed = BlockActions.safeParse(JSON.parse(field));
    if (!parsed.success) {
      const type = (JSON.parse(field) as { type?: unknown }).type;
      if (type !== 'block_actions') {
        log.info('ignored a Slack interaction that is not block_actions', { type: String(type) });
        return ok();
      }
      return { status: 400, body: { error: `not a block_actions payload: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}` } };
    }
    payload = parsed.data;
  } catch (error) {
    return { status: 400, body: { error: `payload is not JSON: ${(error as Error).message}` } };
  }

  const action = payload.actions.find((candidate) => candidate.action_id === APPROVE_ACTION || candidate.action_id === REJECT_ACTION);
  if (!action) {
    log.info('ignored a Slack action that is not a baton button', { actions: payload.actions.map((candidate) => candidate.action_id) });
    return ok();
  }
  const user = payload.user;
  const channel = payload.channel?.id ?? payload.container?.channel_id;
  const token = action.value ?? '';
  const claims = peekToken(token);
  const runId = claims?.run;
  // The environment a button is for (its name is also bound into the signed digests).
  const environment = typeof claims?.env === 'string' ? claims.env : undefined;
  const decider = { id: user.id, name: user.name ?? user.username, via: 'slack' as const };
  const identity = async (): Promise<DeciderIdentity | 'unknown'> => {
    if (!deps.slack) return 'unknown';
    try {
      const found = await deps.slack.userIdentity(user.id);
      return { ...found, username: found.username ?? user.username };
    } catch (error) {
      log.warn('failed to look up the Slack user for the self-approval rule', { user: user.id, error });
      return 'unknown';
    }
  };

  let outcome: DecisionOutcome;
  try {
    outcome =
      typeof runId === 'string'
        ? await deps.decide({ runId, ...(environment ? { environment } : {}), action: action.action_id === APPROVE_ACTION ? 'approve' : 'reject', decider, token, identity })
        : { outcome: 'bad-token', reason: 'malformed', message: 'the button does not carry a baton token' };
  } catch (error) {
    log.error('failed to record a Slack decision', { runId, user: user.id, error });
    await tell(deps, channel, user.id, 'Your decision could not be recorded; nothing changed. Please try again.', log);
    return ok();
  }
  if (outcome.outcome !== 'decided') await tell(deps, channel, user.id, refusalText(outcome), log);
  return ok();
}

function refusalText(outcome: DecisionOutcome): string {
  switch (outcome.outcome) {
    case 'not-allowed':
      return ':no_entry_sign: You are not allowed to approve or reject this deploy. Nothing changed.';
    case 'self-approval':
      return `:no_entry_sign: ${outcome.message}. Ask another approver. Nothing changed.`;
    default:
      return `${outcome.message}. Nothing changed.`;
  }
}

async function tell(deps: CallbackDeps, channel: string | undefined, user: string, text: string, log: Logger): Promise<void> {
  if (!deps.slack || !channel) return;
  await deps.slack.postEphemeral(channel, user, text).catch((error: unknown) => log.warn('failed to send the ephemeral reply', { user, error }));
}
