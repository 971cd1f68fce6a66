import type { StageRuntime, TopicHandler } from '../../../shared/stage/declaration.js';
import { result } from '../../../shared/stage/outcome.js';

/** What the sample stage saw, for the test to read: the retry limit its handler is given. */
export const seen: Array<{ runId: string; maxDeliveryAttempts: number }> = [];

export function smokeTestHandler(_runtime: StageRuntime<'deploy-finished'>): TopicHandler<'chart-published', 'deploy-finished'> {
  return async ({ event }, context) => {
    seen.push({ runId: event.runId, maxDeliveryAttempts: context.maxDeliveryAttempts });
    return result.succeeded(`smoke-tested ${event.chart} ${event.chartVersion}`, {
      emit: [{ topic: 'deploy-finished', input: { runId: event.runId, pipeline: event.pipeline, status: 'synced', revision: event.chartVersion } }],
    });
  };
}
