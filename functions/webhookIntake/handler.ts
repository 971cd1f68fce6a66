import type { HttpHandler, StageRuntime } from '../../shared/stage/declaration.js';
import { githubReceiver } from './github.js';
import { gitlabReceiver } from './gitlab.js';
import { receiveWebhook } from './intake.js';
import type { IntakeDeps } from './intake.js';
import { triggerJenkins } from './jenkins.js';

/** webhookIntake's handler: wires the runtime's services into the intake logic, once. */
export function webhookIntakeHandler(runtime: StageRuntime<'push-received'>): HttpHandler {
  const deps: IntakeDeps = {
    receivers: [githubReceiver(runtime.env.GITHUB_WEBHOOK_SECRET), gitlabReceiver(runtime.env.GITLAB_WEBHOOK_TOKEN)],
    config: runtime.config(),
    ledger: runtime.ledger(),
    publisher: runtime.publisher,
    log: runtime.log,
    now: () => runtime.now(),
    plan: (pipeline) => runtime.manifest.runPlan(pipeline),
    onRunStarted: (event, pipeline) => triggerJenkins(event, pipeline, runtime.env.JENKINS_TRIGGER_TOKEN),
  };
  return (request) => receiveWebhook(request, deps);
}
