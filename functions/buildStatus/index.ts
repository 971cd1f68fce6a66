import type { TopicTarget } from '../../shared/adapters/topic.js';

/** Topic target `buildStatus` (on `cloud-builds`). Placeholder until its stage lands. */
export const target: TopicTarget<'cloud-builds'> = {
  topic: 'cloud-builds',
  async handle(event, _context, runtime) {
    runtime.log.warn('buildStatus is not implemented yet', { stage: 'buildStatus', runId: 'runId' in event ? String(event.runId) : undefined });
  },
};
