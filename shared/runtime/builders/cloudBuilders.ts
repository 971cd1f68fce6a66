import type { BatonConfig, Pipeline } from '../../config/pipelineConfig.js';
import { requireKey } from '../../config/pipelineConfig.js';
import type { Builder } from './builder.js';
import { CloudBuildBuilder, lazyCloudBuildClient } from './cloudBuild.js';

/**
 * The deployed runtime's builders: one Cloud Build builder per pipeline (its project, region,
 * service account and logs bucket), sharing one lazily loaded client. A missing project is a
 * config error that names the file and the field.
 */
export function cloudBuilders(config: () => BatonConfig, env: NodeJS.ProcessEnv): (pipeline: Pipeline) => Builder {
  const client = lazyCloudBuildClient();
  const builders = new Map<string, Builder>();
  return (pipeline) => {
    let builder = builders.get(pipeline.name);
    if (!builder) {
      const projectId = requireKey(config(), pipeline, 'build.projectId', pipeline.build?.projectId ?? env.GOOGLE_CLOUD_PROJECT, 'the builds');
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
