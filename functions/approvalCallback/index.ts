import type { HttpTarget } from '../../shared/adapters/http.js';
import { decide } from '../../domain/approval/decide.js';
import { decideDepsFor, slackFor } from '../../domain/approval/runtimeDeps.js';
import { handleSlackCallback } from './callback.js';
import type { CallbackDeps } from './callback.js';

/** HTTP target `approvalCallback`: Slack's interactivity request URL. */
export const target: HttpTarget = (request, runtime) => {
  const deps = runtime.service<CallbackDeps>('approvalCallback', () => {
    const decideDeps = decideDepsFor(runtime, 'interactive');
    return {
      signingSecret: runtime.env.SLACK_SIGNING_SECRET,
      slack: slackFor(runtime, 'interactive'),
      decide: (decision) => decide(decision, decideDeps),
      now: () => runtime.now(),
      log: runtime.log,
    };
  });
  return handleSlackCallback(request, deps);
};
