import type { TopicTarget } from '../../shared/adapters/topic.js';

/** Topic target `approvalRequest` (on `build-finished`). Placeholder until its stage lands. */
export const target: TopicTarget<'build-finished'> = {
  topic: 'build-finished',
  async handle(event, _context, runtime) {
    runtime.log.warn('approvalRequest is not implemented yet', { stage: 'approvalRequest', runId: 'runId' in event ? String(event.runId) : undefined });
  },
};
