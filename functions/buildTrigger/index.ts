import type { TopicTarget } from '../../shared/adapters/topic.js';
import type { Builder } from '../../domain/build/builder.js';
import { cloudBuilderFor } from '../../domain/build/cloudBuilderFor.js';
import { CLOUD_BUILD_TOPIC } from '../../shared/contracts/topics.js';
import type { Pipeline } from '../../shared/config/pipelineConfig.js';
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
      const loading = import('../../domain/build/buildahBuilder.js').then(
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
  return cloudBuilderFor(runtime, 'buildTrigger');
}
