import type { Bus } from '../bus/bus.js';
import { ChartPublished } from '../contracts/index.js';

/**
 * Publishes `chart-published`. It cannot go through `publishEvent`/`makeEvent`: the contract's
 * `version` field is the chart version, which shadows the envelope's integer schema version, so
 * `makeEvent` cannot fill it in. The data is still validated against the topic's schema and
 * carries the standard attributes. (Reported to the lead: renaming the field to `chartVersion`
 * would restore the envelope's `version`, but `cli/await` already reads `version`.)
 */
export type ChartPublishedInput = Omit<ChartPublished, 'type' | 'at'> & { at?: string };

export async function publishChartPublished(bus: Bus, input: ChartPublishedInput): Promise<ChartPublished> {
  const event = ChartPublished.parse({ ...input, type: 'chart-published', at: input.at ?? new Date().toISOString() });
  await bus.publish('chart-published', Buffer.from(JSON.stringify(event)), { type: 'chart-published', run_id: event.runId });
  return event;
}
