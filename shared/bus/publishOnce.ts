import type { BatonTopic, EventInput } from '../contracts/index.js';
import type { Doc } from '../ledger/docStore.js';
import type { RunLedger } from '../ledger/runLedger.js';
import type { Bus } from './bus.js';
import { publishEvent } from './events.js';

/**
 * Publishes an event at most once per `key`, however often the message that causes it is
 * delivered: a ledger claim guards the publish, and is released if publishing fails, so the
 * redelivery that follows can publish instead. Resolves false when another delivery already did.
 */
export async function publishOnce<T extends BatonTopic>(
  deps: { ledger: RunLedger; bus: Bus },
  key: string,
  topic: T,
  input: EventInput<T>,
  claimValue: Doc = {},
): Promise<boolean> {
  if (!(await deps.ledger.claim(key, claimValue))) return false;
  try {
    await publishEvent(deps.bus, topic, input);
  } catch (error) {
    await deps.ledger.releaseClaim(key).catch(() => undefined);
    throw error;
  }
  return true;
}
