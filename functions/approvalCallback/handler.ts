import { decide } from '../../domain/approval/decide.js';
import { decideDepsFor, slackFor } from '../../domain/approval/runtimeDeps.js';
import type { HttpHandler, StageRuntime } from '../../shared/stage/declaration.js';
import { handleSlackCallback } from './callback.js';
import type { CallbackDeps } from './callback.js';

/** approvalCallback's handler: Slack's interactivity request URL, wired once. */
export function approvalCallbackHandler(runtime: StageRuntime<'approval-decided' | 'promotion-requested'>): HttpHandler {
  const decideDeps = decideDepsFor(runtime, 'interactive');
  const deps: CallbackDeps = {
    signingSecret: runtime.env.SLACK_SIGNING_SECRET,
    slack: slackFor(runtime, 'interactive'),
    decide: (decision) => decide(decision, decideDeps),
    now: () => runtime.now(),
    log: runtime.log,
  };
  return (request) => handleSlackCallback(request, deps);
}
