import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChartRepo } from '../../domain/chart/chartRepo.js';
import { OciRegistry } from '../../shared/oci/registryClient.js';
import type { StageRuntime, TopicHandler } from '../../shared/stage/declaration.js';
import type { ChartBumpDeps } from './bump.js';
import { bumpChart } from './bump.js';
import type { ChartSettings } from './settings.js';

/** Artifact Registry's user name for an OAuth access token. */
const OAUTH_USER = 'oauth2accesstoken';

/** chartBump's handler: one ChartRepo (with its kept clones) and one registry client per setting, for the life of the instance. */
export function chartBumpHandler(runtime: StageRuntime<'chart-published'>): TopicHandler<'approval-decided', 'chart-published'> {
  const cacheRoot = join(runtime.local?.workDir ?? tmpdir(), 'baton-chart-repos');
  const token = () => runtime.accessToken();
  const base: Omit<ChartBumpDeps, 'progress'> = {
    config: runtime.config(),
    ledger: runtime.ledger(),
    log: runtime.log,
    defaultRegistry: runtime.local ? `oci://${runtime.local.registry}/charts` : undefined,
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
  return ({ event }, context) => bumpChart(event, { ...base, progress: (detail) => context.progress(detail) });
}
