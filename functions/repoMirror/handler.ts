import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StageRuntime, TopicHandler } from '../../shared/stage/declaration.js';
import { mirrorRef } from './mirror.js';
import { handlePushReceived } from './mirrorStage.js';

/** repoMirror's handler: the runtime's services, once, into the mirror stage. */
export function repoMirrorHandler(runtime: StageRuntime<'source-mirrored'>): TopicHandler<'push-received', 'source-mirrored'> {
  // Deployed, /tmp survives between requests on a warm instance, so the cache stays useful.
  const cacheRoot = runtime.local ? join(runtime.local.workDir, 'mirror-cache') : join(tmpdir(), 'baton-mirror-cache');
  return ({ event }, context) =>
    handlePushReceived(event, {
      config: runtime.config(),
      log: runtime.log,
      mirror: mirrorRef,
      accessToken: () => runtime.accessToken(),
      cacheRoot,
      progress: (detail) => context.progress(detail),
    });
}
