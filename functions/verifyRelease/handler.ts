import { slackFor } from '../../domain/approval/runtimeDeps.js';
import type { StageRuntime, TopicHandler } from '../../shared/stage/declaration.js';
import { verifyDeployedRelease } from './verify.js';
import type { VerifyDeps } from './verify.js';

/** verifyRelease's handler: the ledger, Slack, and Google credentials for Managed Prometheus, once. */
export function verifyReleaseHandler(runtime: StageRuntime<'release-verified' | 'approval-decided'>): TopicHandler<'deploy-finished', 'release-verified' | 'approval-decided'> {
  const deps: Omit<VerifyDeps, 'progress'> = {
    ledger: runtime.ledger(),
    config: runtime.config(),
    manifest: runtime.manifest,
    publisher: runtime.publisher,
    env: { PROMETHEUS_URL: runtime.env.PROMETHEUS_URL, SLACK_CHANNEL: runtime.env.SLACK_CHANNEL },
    slack: slackFor(runtime, 'background'),
    accessToken: () => runtime.accessToken(),
    now: () => runtime.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    log: runtime.log,
  };
  return ({ event }, context) => verifyDeployedRelease(event, { ...deps, progress: (detail) => context.progress(detail) });
}
