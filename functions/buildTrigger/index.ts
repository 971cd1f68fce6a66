import type { TopicTarget } from '../../shared/adapters/topic.js';
import type { Builder } from '../../shared/build/builder.js';
import { CloudBuildBuilder, lazyCloudBuildClient } from '../../shared/build/cloudBuildBuilder.js';
import { CLOUD_BUILD_TOPIC } from '../../shared/contracts/topics.js';
import type { Pipeline } from '../../shared/config/pipelineConfig.js';
import { requireKey } from '../../shared/config/pipelineConfig.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import { handleSourceMirrored } from './trigger.js';
import type { BuildTriggerDeps } from './trigger.js';

/** Topic target `buildTrigger` (on `source-mirrored`): picks the builder for the runtime and starts the builds. */
export const target: TopicTarget<'source-mirrored'> = {
  topic: 'source-mirrored',
  async handle(event, _context, runtime) {
    const deps = runtime.service<BuildTriggerDeps>('buildTrigger', () => ({
      config: runtime.config(),
      ledger: runtime.ledger(),
      bus: runtime.bus(),
      log: runtime.log,
      builderFor: builderFactory(runtime),
      ...(runtime.local ? { localRegistry: runtime.local.registry } : {}),
      plansTerraform: runtime.mode !== 'embedded',
    }));
    await handleSourceMirrored(event, deps);
  },
};

/** Embedded: one buildah builder for the process. Deployed: one Cloud Build builder per pipeline (its project and service account). */
function builderFactory(runtime: Runtime): (pipeline: Pipeline) => Builder {
  if (runtime.mode === 'embedded' && runtime.local) {
    const local = runtime.local;
    // Loaded on first use: the deployed function never needs buildah or simple-git.
    const builder = runtime.service<Builder>('buildahBuilder', () => {
      const loading = import('../../shared/build/buildahBuilder.js').then(
        ({ BuildahBuilder }) =>
          new BuildahBuilder({
            workDir: local.workDir,
            log: runtime.log.child({ stage: 'localBuilder' }),
            publish: async (build) => {
              await runtime.bus().publish(CLOUD_BUILD_TOPIC, Buffer.from(JSON.stringify(build)), { buildId: build.id, status: build.status });
            },
          }),
      );
      return { start: async (request) => (await loading).start(request) };
    });
    return () => builder;
  }
  const client = runtime.service('cloudBuildClient', lazyCloudBuildClient);
  const builders = new Map<string, Builder>();
  return (pipeline) => {
    let builder = builders.get(pipeline.name);
    if (!builder) {
      const config = runtime.config();
      const projectId = requireKey(config, pipeline, 'build.projectId', pipeline.build?.projectId ?? runtime.env.GOOGLE_CLOUD_PROJECT, 'buildTrigger');
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
