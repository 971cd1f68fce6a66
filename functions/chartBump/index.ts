import type { TopicTarget } from '../../shared/adapters/topic.js';

/** Topic target `chartBump` (on `approval-decided`). Placeholder until its stage lands. */
export const target: TopicTarget<'approval-decided'> = {
  topic: 'approval-decided',
  async handle(event, _context, runtime) {
    runtime.log.warn('chartBump is not implemented yet', { stage: 'chartBump', runId: 'runId' in event ? String(event.runId) : undefined });
  },
};
