import type { BatonTopic, EventInput } from '../contracts/index.js';
import type { Doc } from '../ledger/docStore.js';
import type { RunLedger } from '../ledger/runLedger.js';
import type { Bus } from './bus.js';
import { publishEvent } from './events.js';

/**
 * The once-key of a run's `deploy-finished`. Argo CD's verdict (deployWatch), a Terraform apply's
 * end (buildStatus) and a deploy that cannot happen (chartBump) all report through it, so a run
 * has exactly one.
 */
export const deployFinishedKey = (runId: string) => `deploy-finished:${runId}`;

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
