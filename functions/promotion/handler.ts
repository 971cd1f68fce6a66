import { slackFor, tokenSecretsFor } from '../../domain/approval/runtimeDeps.js';
import type { StageRuntime, TopicHandler } from '../../shared/stage/declaration.js';
import { handlePromotionEvent } from './promote.js';
import type { PromotionDeps } from './promote.js';

type Trigger = 'build-finished' | 'deploy-finished' | 'release-verified' | 'promotion-requested' | 'run-finished';

/** promotion's handler: the ledger, Slack and the token keys, once. */
export function promotionHandler(runtime: StageRuntime<'approval-requested' | 'approval-decided'>): TopicHandler<Trigger, 'approval-requested' | 'approval-decided'> {
  const deps: PromotionDeps = {
    ledger: runtime.ledger(),
    config: runtime.config(),
    manifest: runtime.manifest,
    env: { SLACK_CHANNEL: runtime.env.SLACK_CHANNEL, SLACK_APPROVERS: runtime.env.SLACK_APPROVERS },
    slack: slackFor(runtime, 'background'),
    tokenSecrets: tokenSecretsFor(runtime),
    now: () => runtime.now(),
    log: runtime.log,
  };
  return (delivery) => handlePromotionEvent(delivery, deps);
}
