import type { HttpHandler, StageRuntime } from '../../shared/stage/declaration.js';
import { githubReceiver } from './github.js';
import { gitlabReceiver } from './gitlab.js';
import { receiveWebhook } from './intake.js';
import type { RunStartDeps } from './intake.js';

/** What starting a run needs from the runtime, whether a webhook starts it or `baton retry` does. */
export function runStartDeps(runtime: StageRuntime<'push-received'>): RunStartDeps {
  return {
    config: runtime.config(),
    ledger: runtime.ledger(),
    publisher: runtime.publisher,
    log: runtime.log,
    now: () => runtime.now(),
    plan: (pipeline) => runtime.manifest.runPlan(pipeline),
  };
}

/** webhookIntake's handler: wires the runtime's services into the intake logic, once. */
export function webhookIntakeHandler(runtime: StageRuntime<'push-received'>): HttpHandler {
  const deps = { receivers: [githubReceiver(runtime.env.GITHUB_WEBHOOK_SECRET), gitlabReceiver(runtime.env.GITLAB_WEBHOOK_TOKEN)], ...runStartDeps(runtime) };
  return (request) => receiveWebhook(request, deps);
}
