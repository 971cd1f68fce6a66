import { eventConsumer } from '../bus/events.js';
import type { EventContext } from '../bus/events.js';
import type { MessageHandler } from '../bus/bus.js';
import type { EventOf, TopicName } from '../contracts/index.js';
import type { Runtime } from '../runtime/runtime.js';

/** A Pub/Sub-triggered stage: the topic it consumes and its handler. */
export type TopicTarget<T extends TopicName> = {
  topic: T;
  handle(event: EventOf<T>, context: EventContext, runtime: Runtime): Promise<void>;
};

/**
 * The bus handler for a topic target, shared by both runtimes: validates the message against
 * its topic's contract, logs and acks one that can never be valid, and lets a handler error
 * propagate so the message is redelivered (and, after the allowed attempts, dead-lettered).
 */
export function topicHandler<T extends TopicName>(target: TopicTarget<T>, runtime: Runtime, stageName: string): MessageHandler {
  const log = runtime.log.child({ stage: stageName });
  return eventConsumer(
    target.topic,
    (event, context) => target.handle(event, context, runtime),
    (message, error) => log.warn('ignored a message that does not match its contract', { topic: target.topic, messageId: message.id, runId: message.attributes.run_id, reason: error }),
  );
}

/** The Pub/Sub push body that functions-framework turns into a `messagePublished` CloudEvent. */
type MessagePublishedData = {
  message?: { data?: string; attributes?: Record<string, string>; messageId?: string; message_id?: string; publishTime?: string };
  subscription?: string;
  deliveryAttempt?: number;
};

/**
 * Adapts a topic target to functions-framework's `cloudEvent` signature
 * (`google.cloud.pubsub.topic.v1.messagePublished`). The target module is imported on the
 * first event, so a cold start loads only this target's code and SDKs.
 */
export function functionsFrameworkCloudEvent<T extends TopicName>(load: () => Promise<TopicTarget<T>>, runtime: () => Runtime, stageName: string) {
  let handler: Promise<MessageHandler> | undefined;
  return async (cloudEvent: { id?: string; data?: unknown }): Promise<void> => {
    const rt = runtime();
    const data = (cloudEvent.data ?? {}) as MessagePublishedData;
    const message = data.message;
    if (!message) {
      rt.log.warn('ignored an event that is not a Pub/Sub messagePublished CloudEvent', { stage: stageName, eventId: cloudEvent.id });
      return;
    }
    handler ??= load().then((target) => topicHandler(target, rt, stageName));
    await (await handler)({
      id: message.messageId ?? message.message_id ?? cloudEvent.id ?? '',
      data: Buffer.from(message.data ?? '', 'base64'),
      attributes: message.attributes ?? {},
      deliveryAttempt: data.deliveryAttempt ?? 1,
      publishTime: message.publishTime ? new Date(message.publishTime) : new Date(),
    });
  };
}
