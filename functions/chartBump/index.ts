import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TopicTarget } from '../../shared/adapters/topic.js';
import { cloudBuilderFor } from '../../domain/build/cloudBuilderFor.js';
import { ChartRepo } from '../../domain/chart/chartRepo.js';
import { OciRegistry } from '../../shared/oci/registryClient.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import type { ChartBumpDeps } from './bump.js';
import { bumpChart } from './bump.js';
import type { ChartSettings } from './settings.js';

/** Artifact Registry's user name for an OAuth access token (FACTS.md). */
const OAUTH_USER = 'oauth2accesstoken';

function deps(runtime: Runtime): ChartBumpDeps {
  return runtime.service<ChartBumpDeps>('chartBump', () => {
    const cacheRoot = join(runtime.local?.workDir ?? tmpdir(), 'baton-chart-repos');
    const token = () => runtime.accessToken();
    return {
      config: runtime.config(),
      ledger: runtime.ledger(),
      bus: runtime.bus(),
      log: runtime.log,
      defaultRegistry: runtime.local ? `oci://${runtime.local.registry}/charts` : undefined,
      ...(runtime.mode === 'cloud' ? { applyBuilderFor: cloudBuilderFor(runtime, 'chartBump') } : {}),
      // One ChartRepo (with its kept clones) per repo and branch, for the life of the instance.
      chartRepo: (settings: ChartSettings) =>
        runtime.service(`chartRepo:${settings.repo}#${settings.branch}`, () => {
          const key = createHash('sha256').update(`${settings.repo}#${settings.branch}`).digest('hex').slice(0, 16);
          return new ChartRepo({
            url: settings.repo,
            branch: settings.branch,
            bot: runtime.config().bot,
            cacheDir: join(cacheRoot, key),
            accessToken: settings.gitAuth === 'google' ? token : undefined,
          });
        }),
      registry: (settings: ChartSettings) =>
        runtime.service(`chartRegistry:${settings.registryHost}:${settings.registryAuth}`, () =>
          new OciRegistry(settings.registryHost, {
            credentials:
              settings.registryAuth === 'google'
                ? async () => {
                    const password = await token();
                    return password ? { username: OAUTH_USER, password } : undefined;
                  }
                : undefined,
          }),
        ),
    };
  });
}

/** Topic target `chartBump` (on `approval-decided`): wires the runtime's services into the stage, once. */
export const target: TopicTarget<'approval-decided'> = {
  topic: 'approval-decided',
  handle: (event, _context, runtime) => bumpChart(event, deps(runtime)),
};
