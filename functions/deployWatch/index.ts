import type { TopicTarget } from '../../shared/adapters/topic.js';

/** Topic target `deployWatch` (on `chart-published`). Placeholder until its stage lands. */
export const target: TopicTarget<'chart-published'> = {
  topic: 'chart-published',
  async handle(event, _context, runtime) {
    runtime.log.warn('deployWatch is not implemented yet', { stage: 'deployWatch', runId: 'runId' in event ? String(event.runId) : undefined });
  },
};
