import type { TopicTarget } from '../../shared/adapters/topic.js';

/** Topic target `repoMirror` (on `push-received`). Placeholder until its stage lands. */
export const target: TopicTarget<'push-received'> = {
  topic: 'push-received',
  async handle(event, _context, runtime) {
    runtime.log.warn('repoMirror is not implemented yet', { stage: 'repoMirror', runId: 'runId' in event ? String(event.runId) : undefined });
  },
};
