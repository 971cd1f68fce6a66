import type { HttpTarget } from '../../shared/adapters/http.js';
import { githubReceiver } from './github.js';
import { gitlabReceiver } from './gitlab.js';
import { receiveWebhook } from './intake.js';
import type { IntakeDeps } from './intake.js';
import { triggerJenkins } from './jenkins.js';

/** HTTP target `webhookIntake`: wires the runtime's services into the intake logic, once. */
export const target: HttpTarget = (request, runtime) => {
  const deps = runtime.service<IntakeDeps>('webhookIntake', () => ({
    receivers: [githubReceiver(runtime.env.GITHUB_WEBHOOK_SECRET), gitlabReceiver(runtime.env.GITLAB_WEBHOOK_TOKEN)],
    config: runtime.config(),
    ledger: runtime.ledger(),
    bus: runtime.bus(),
    log: runtime.log,
    onRunStarted: (event, pipeline) => triggerJenkins(event, pipeline, runtime.env.JENKINS_TRIGGER_TOKEN),
  }));
  return receiveWebhook(request, deps);
};
