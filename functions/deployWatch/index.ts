import type { TopicTarget } from '../../shared/adapters/topic.js';
import { ArgoCdClient } from './argocdClient.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import type { DeployWatchDeps } from './deploy.js';
import { watchDeploy } from './deploy.js';

function deps(runtime: Runtime): DeployWatchDeps {
  return runtime.service<DeployWatchDeps>('deployWatch', () => {
    // Secret Manager mounts the token as ARGOCD_AUTH_TOKEN (Terraform); read once per instance.
    const token = runtime.env.ARGOCD_AUTH_TOKEN;
    return {
      config: runtime.config(),
      ledger: runtime.ledger(),
      bus: runtime.bus(),
      log: runtime.log,
      now: () => runtime.now(),
      argocd: (url) => (token ? runtime.service(`argocd:${url}`, () => new ArgoCdClient(url, token)) : undefined),
    };
  });
}

/** Topic target `deployWatch` (on `chart-published`): wires the runtime's services into the stage, once. */
export const target: TopicTarget<'chart-published'> = {
  topic: 'chart-published',
  handle: (event, _context, runtime) => watchDeploy(event, deps(runtime)),
};
