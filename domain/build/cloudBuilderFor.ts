import type { Pipeline } from '../../shared/config/pipelineConfig.js';
import { requireKey } from '../../shared/config/pipelineConfig.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import type { Builder } from './builder.js';
import { CloudBuildBuilder, lazyCloudBuildClient } from './cloudBuildBuilder.js';

/**
 * One Cloud Build builder per pipeline (its project, region, service account and logs bucket),
 * sharing one lazily loaded client per runtime. Used for image builds and Terraform plans
 * (buildTrigger) and for approved Terraform applies (chartBump).
 */
export function cloudBuilderFor(runtime: Runtime, stage: string): (pipeline: Pipeline) => Builder {
  const client = runtime.service('cloudBuildClient', lazyCloudBuildClient);
  const builders = runtime.service('cloudBuilders', () => new Map<string, Builder>());
  return (pipeline) => {
    let builder = builders.get(pipeline.name);
    if (!builder) {
      const projectId = requireKey(runtime.config(), pipeline, 'build.projectId', pipeline.build?.projectId ?? runtime.env.GOOGLE_CLOUD_PROJECT, stage);
      builder = new CloudBuildBuilder(
        {
          projectId,
          ...(pipeline.build?.region ? { region: pipeline.build.region } : {}),
          ...(pipeline.build?.serviceAccount ? { serviceAccount: pipeline.build.serviceAccount } : {}),
          ...(pipeline.build?.logsBucket ? { logsBucket: pipeline.build.logsBucket } : {}),
          ...(pipeline.build?.timeoutSeconds ? { timeoutSeconds: pipeline.build.timeoutSeconds } : {}),
        },
        client,
      );
      builders.set(pipeline.name, builder);
    }
    return builder;
  };
}
