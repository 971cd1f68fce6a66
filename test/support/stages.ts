import type { Subscription } from '../../shared/bus/bus.js';
import type { BatonTopic, EventInput, EventOf, TopicName } from '../../shared/contracts/index.js';
import { makeEvent } from '../../shared/contracts/index.js';
import type { NewRun } from '../../shared/ledger/runLedger.js';
import { addToOutbox } from '../../shared/ledger/runLedger.js';
import type { Runtime } from '../../shared/runtime/runtime.js';
import { isTopicStage } from '../../shared/stage/declaration.js';
import type { AnyStage } from '../../shared/stage/declaration.js';
import type { Manifest } from '../../shared/stage/manifest.js';
import { OUTBOX_KEY_ATTRIBUTE, publishOutboxEntry } from '../../shared/stage/publisher.js';
import { topicStageHandler } from '../../shared/stage/runner.js';
import { MANIFEST } from '../../functions/stages.js';
import { eventually } from './runtimes.js';

/**
 * Test support for driving a part of the chain: subscribe some of the manifest's topic stages
 * through the same stage runner the deployed functions use, start runs the way intake does, and
 * put events on the bus the way a stage does (written to the run's outbox, then published).
 */
export async function subscribeStages(
  runtime: Runtime,
  names: readonly string[],
  options: { prefix: string; manifest?: Manifest; minBackoffMs?: number; maxBackoffMs?: number } ,
): Promise<Subscription[]> {
  const manifest = options.manifest ?? MANIFEST;
  const subscriptions: Subscription[] = [];
  for (const name of names) {
    const stage = manifest.find(name) as AnyStage | undefined;
    if (!stage || !isTopicStage(stage)) throw new Error(`no topic stage ${name} in the manifest`);
    for (const topic of stage.trigger.topics) {
      const handler = topicStageHandler(stage, topic, runtime, manifest);
      // Deliveries still running when the test closes: close() waits for them, so a late
      // duplicate never meets a closed ledger.
      let inFlight = 0;
      const subscription = await runtime.bus().subscribe(
        topic,
        `${options.prefix}${name}-${topic}`,
        async (message) => {
          inFlight++;
          try {
            await handler(message);
          } finally {
            inFlight--;
          }
        },
        { maxDeliveryAttempts: stage.maxDeliveryAttempts, minBackoffMs: options.minBackoffMs ?? 200, maxBackoffMs: options.maxBackoffMs ?? 2_000 },
      );
      subscriptions.push({
        close: async (closeOptions) => {
          await subscription.close(closeOptions);
          await eventually(() => (inFlight === 0 ? true : undefined), 60_000, `${name} deliveries to finish`);
        },
      });
    }
  }
  return subscriptions;
}

/** A run record as intake would create it (order from `at`). */
export function newRun(fields: Partial<NewRun> & { runId: string; after: string; before?: string }, at = new Date()): NewRun {
  return {
    pipeline: 'shop',
    kind: 'app',
    order: `${at.toISOString()}~${fields.runId}`,
    provider: 'github',
    deliveryId: `delivery-${fields.runId}`,
    repository: 'acme/shop',
    ref: 'refs/heads/main',
    branch: 'main',
    before: '0'.repeat(40),
    pusher: { name: 'Dev' },
    services: [],
    ...fields,
  };
}

/** The `push-received` intake would publish for `run` (services resolved, no commits listed). */
export function pushReceivedFor(run: NewRun): EventOf<'push-received'> {
  return makeEvent('push-received', {
    runId: run.runId,
    pipeline: run.pipeline,
    kind: run.kind,
    provider: run.provider,
    deliveryId: run.deliveryId,
    repository: run.repository,
    cloneUrl: 'file:///nowhere',
    ref: run.ref,
    branch: run.branch,
    before: run.before,
    after: run.after,
    forced: false,
    created: false,
    pusher: run.pusher,
    commits: [],
    changedPaths: run.services.map((service) => `src/${service}/x`),
    services: run.services,
    servicesResolved: true,
    order: run.order,
  });
}

/** Creates the run (if new) and says `topic` for it the way a stage would: outbox first, then the bus. */
export async function emit<T extends BatonTopic>(runtime: Runtime, topic: T, input: EventInput<T>, options: { run?: NewRun; key?: string } = {}): Promise<EventOf<T>> {
  const event = makeEvent(topic, input);
  const key = options.key ?? topic;
  const at = new Date();
  if (options.run) await runtime.ledger().createRun(options.run, at, {}, {});
  const { run } = await runtime.ledger().updateRun(event.runId, (current) => addToOutbox(current, [{ key, topic, event }], at.toISOString()).length > 0);
  if (!run) throw new Error(`no run ${event.runId} to emit ${topic} for`);
  await publishOutboxEntry(runtime.bus(), key, { topic, event });
  return event;
}

/** Hands one event to a stage through the stage runner, as one delivery of the bus would (the outcome is recorded and published). */
export async function deliver<T extends TopicName>(runtime: Runtime, stageName: string, topic: T, event: EventOf<T>, options: { deliveryAttempt?: number; key?: string; manifest?: Manifest } = {}): Promise<void> {
  const manifest = options.manifest ?? MANIFEST;
  const stage = manifest.find(stageName) as AnyStage | undefined;
  if (!stage || !isTopicStage(stage)) throw new Error(`no topic stage ${stageName} in the manifest`);
  const runId = (event as { runId?: string }).runId;
  await topicStageHandler(stage, topic, runtime, manifest)({
    id: `test-${Math.random().toString(36).slice(2)}`,
    data: Buffer.from(JSON.stringify(event)),
    attributes: { type: topic, ...(runId ? { run_id: runId } : {}), ...(options.key ? { [OUTBOX_KEY_ATTRIBUTE]: options.key } : {}) },
    deliveryAttempt: options.deliveryAttempt ?? 1,
    publishTime: new Date(),
  });
}
