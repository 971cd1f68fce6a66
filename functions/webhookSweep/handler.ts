import type { BatonConfig } from '../../shared/config/pipelineConfig.js';
import type { ScheduledHandler, StageRuntime } from '../../shared/stage/declaration.js';
import { hooksApiFor } from './hooksApi.js';
import { sweepWebhooks } from './sweep.js';
import type { HooksApi, SweepSummary } from './sweep.js';

type Provider = 'github' | 'gitlab';

/**
 * webhookSweep's tick: one sweep per git host over the pipelines whose config names their push
 * webhook (`pipelines[].webhook.hookId`). A delivery intake already holds is found in the run
 * ledger by its delivery id, and each redelivery is claimed there, so two sweeps (or two
 * instances) never ask twice. A host without credentials is logged once as off and skipped.
 */
export function webhookSweepHandler(runtime: StageRuntime<never>): ScheduledHandler {
  const log = runtime.log.child({ stage: runtime.stage.name });
  const apis = new Map<Provider, HooksApi | undefined>();
  const apiFor = (provider: Provider): HooksApi | undefined => {
    if (!apis.has(provider)) {
      const api = hooksApiFor(runtime.env, provider);
      apis.set(provider, api);
      if (!api) {
        const needs = provider === 'github' ? 'GITHUB_TOKEN, or GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID' : 'GITLAB_TOKEN';
        log.info(`the webhook sweep of ${provider} is off: set ${needs} to turn it on`, { provider });
      }
    }
    return apis.get(provider);
  };
  return async () => {
    const ledger = runtime.ledger();
    const summaries: Partial<Record<Provider, SweepSummary>> = {};
    for (const [provider, hooks] of hooksByProvider(runtime.config())) {
      const api = apiFor(provider);
      if (!api) continue;
      summaries[provider] = await sweepWebhooks({
        github: api,
        hooks,
        isKnownDelivery: (guid) => ledger.hasDelivery(guid),
        claims: { claim: (key) => ledger.claim(key), release: (key) => ledger.releaseClaim(key) },
        log,
        now: () => runtime.now().getTime(),
      });
    }
    return summaries;
  };
}

/** The configured webhooks, by host; a repository two pipelines share is swept once. */
export function hooksByProvider(config: BatonConfig): Map<Provider, Array<{ repository: string; hookId: number }>> {
  const out = new Map<Provider, Array<{ repository: string; hookId: number }>>();
  for (const pipeline of config.pipelines) {
    if (!pipeline.webhook) continue;
    const provider = pipeline.webhook.provider ?? 'github';
    const hooks = out.get(provider) ?? [];
    if (!hooks.some((hook) => hook.repository === pipeline.repository && hook.hookId === pipeline.webhook!.hookId)) hooks.push({ repository: pipeline.repository, hookId: pipeline.webhook.hookId });
    out.set(provider, hooks);
  }
  return out;
}
