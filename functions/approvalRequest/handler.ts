import { slackFor, tokenSecretsFor } from '../../domain/approval/runtimeDeps.js';
import type { StageRuntime, TopicHandler } from '../../shared/stage/declaration.js';
import { handleBuildFinished } from './request.js';
import type { ApprovalRequestDeps } from './request.js';

/** approvalRequest's handler: the ledger, Slack and the token keys, once. */
export function approvalRequestHandler(runtime: StageRuntime<'approval-requested'>): TopicHandler<'build-finished', 'approval-requested'> {
  const deps: ApprovalRequestDeps = {
    ledger: runtime.ledger(),
    config: runtime.config(),
    env: { SLACK_CHANNEL: runtime.env.SLACK_CHANNEL, SLACK_APPROVERS: runtime.env.SLACK_APPROVERS },
    slack: slackFor(runtime, 'background'),
    tokenSecrets: tokenSecretsFor(runtime),
    now: () => runtime.now(),
    log: runtime.log,
  };
  return ({ event }) => handleBuildFinished(event, deps);
}
