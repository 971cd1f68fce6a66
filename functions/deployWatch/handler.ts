import type { StageRuntime, TopicHandler } from '../../shared/stage/declaration.js';
import { ArgoCdClient } from './argocdClient.js';
import type { DeployWatchDeps } from './deploy.js';
import { watchDeploy } from './deploy.js';

/** deployWatch's handler: the ledger and one Argo CD client per server, once. */
export function deployWatchHandler(runtime: StageRuntime<'deploy-finished'>): TopicHandler<'chart-published', 'deploy-finished'> {
  // Secret Manager mounts the token as ARGOCD_AUTH_TOKEN (Terraform); read once per instance.
  const token = runtime.env.ARGOCD_AUTH_TOKEN;
  const base: Omit<DeployWatchDeps, 'progress'> = {
    config: runtime.config(),
    ledger: runtime.ledger(),
    log: runtime.log,
    now: () => runtime.now(),
    argocd: (url) => (token ? runtime.service(`argocd:${url}`, () => new ArgoCdClient(url, token)) : undefined),
  };
  return ({ event }, context) => watchDeploy(event, { ...base, progress: (detail, links) => context.progress(detail, links) });
}
