import type { StageRuntime, TopicHandler } from '../../shared/stage/declaration.js';
import { handleSourceMirrored } from './trigger.js';

/** buildTrigger's handler: the runtime's builder (Cloud Build deployed, buildah embedded) and ledger, once. */
export function buildTriggerHandler(runtime: StageRuntime<'build-started'>): TopicHandler<'source-mirrored', 'build-started'> {
  return ({ event }, context) =>
    handleSourceMirrored(event, {
      config: runtime.config(),
      ledger: runtime.ledger(),
      log: runtime.log,
      builderFor: (pipeline) => runtime.builder(pipeline),
      progress: (detail) => context.progress(detail),
      now: () => runtime.now(),
      instanceId: runtime.instanceId,
      singleProcess: runtime.mode === 'embedded',
    });
}
