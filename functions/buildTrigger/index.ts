import type { TopicTarget } from '../../shared/adapters/topic.js';

/** Topic target `buildTrigger` (on `source-mirrored`). Placeholder until its stage lands. */
export const target: TopicTarget<'source-mirrored'> = {
  topic: 'source-mirrored',
  async handle(event, _context, runtime) {
    runtime.log.warn('buildTrigger is not implemented yet', { stage: 'buildTrigger', runId: 'runId' in event ? String(event.runId) : undefined });
  },
};
