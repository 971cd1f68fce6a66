import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TopicTarget } from '../../shared/adapters/topic.js';
import { mirrorRef } from './mirror.js';
import { handlePushReceived } from './mirrorStage.js';
import type { MirrorStageDeps } from './mirrorStage.js';

/** Topic target `repoMirror` (on `push-received`): wires the runtime into the mirror stage, once. */
export const target: TopicTarget<'push-received'> = {
  topic: 'push-received',
  async handle(event, context, runtime) {
    const deps = runtime.service<MirrorStageDeps>('repoMirror', () => ({
      config: runtime.config(),
      ledger: runtime.ledger(),
      bus: runtime.bus(),
      log: runtime.log,
      mirror: mirrorRef,
      accessToken: () => runtime.accessToken(),
      // Deployed, /tmp survives between requests on a warm instance, so the cache stays useful.
      cacheRoot: runtime.local ? join(runtime.local.workDir, 'mirror-cache') : join(tmpdir(), 'baton-mirror-cache'),
    }));
    await handlePushReceived(event, context, deps);
  },
};
