import type { TopicTarget } from '../../shared/adapters/topic.js';
import { expireStale } from '../../domain/approval/expiry.js';
import { decideDepsFor, slackFor, tokenSecretsFor } from '../../domain/approval/runtimeDeps.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import { handleBuildFinished } from './request.js';
import type { ApprovalRequestDeps } from './request.js';

/** The opportunistic expiry sweep runs at most this often per instance. */
const SWEEP_EVERY_MS = 5 * 60_000;

function deps(runtime: Runtime): ApprovalRequestDeps {
  return runtime.service<ApprovalRequestDeps>('approvalRequest', () => ({
    ledger: runtime.ledger(),
    bus: runtime.bus(),
    config: runtime.config(),
    env: { SLACK_CHANNEL: runtime.env.SLACK_CHANNEL, SLACK_APPROVERS: runtime.env.SLACK_APPROVERS },
    slack: slackFor(runtime, 'background'),
    tokenSecrets: tokenSecretsFor(runtime),
    now: () => runtime.now(),
    log: runtime.log,
  }));
}

/** Topic target `approvalRequest` (on `build-finished`). */
export const target: TopicTarget<'build-finished'> = {
  topic: 'build-finished',
  async handle(event, _context, runtime) {
    await handleBuildFinished(event, deps(runtime));
    // Requests also expire lazily when someone decides; this catches the ones nobody touches.
    const sweep = runtime.service('approvalRequest:lastSweep', () => ({ at: 0 }));
    if (runtime.now().getTime() - sweep.at >= SWEEP_EVERY_MS) {
      sweep.at = runtime.now().getTime();
      await expireStale(decideDepsFor(runtime, 'background')).catch((error: unknown) => runtime.log.warn('failed to sweep expired approvals', { error }));
    }
  },
};
