import type { BusMessage, MessageHandler } from '../bus/bus.js';
import { CLOUD_BUILD_TOPIC, isTopicName } from '../contracts/topics.js';
import type { TopicName } from '../contracts/topics.js';
import type { Logger } from '../log/logger.js';

/** The Pub/Sub push body that functions-framework turns into a `messagePublished` CloudEvent. */
type MessagePublishedData = {
  message?: { data?: string; attributes?: Record<string, string>; messageId?: string; message_id?: string; publishTime?: string };
  subscription?: string;
  deliveryAttempt?: number;
};

/**
 * Which of a stage's topics a CloudEvent came from. Eventarc names the topic in the event's
 * `source` (`//pubsub.googleapis.com/projects/P/topics/T`); a plain push has only the message,
 * whose `type` attribute baton sets on everything it publishes (Cloud Build's own messages carry
 * `buildId` and `status` instead).
 */
export function topicOfCloudEvent(topics: readonly TopicName[], source: string | undefined, attributes: Record<string, string>): TopicName | undefined {
  if (topics.length === 1) return topics[0];
  const fromSource = /\/topics\/([^/]+)$/.exec(source ?? '')?.[1];
  if (fromSource && isTopicName(fromSource) && topics.includes(fromSource)) return fromSource;
  const fromType = attributes.type;
  if (fromType && isTopicName(fromType) && topics.includes(fromType)) return fromType;
  if (!fromType && attributes.buildId && topics.includes(CLOUD_BUILD_TOPIC)) return CLOUD_BUILD_TOPIC;
  return undefined;
}

/**
 * Adapts a topic stage to functions-framework's `cloudEvent` signature
 * (`google.cloud.pubsub.topic.v1.messagePublished`): unwraps the Pub/Sub message and hands it to
 * the stage runner's handler for its topic. A throw makes Eventarc redeliver it.
 */
export function functionsFrameworkCloudEvent(topics: readonly TopicName[], handlerFor: (topic: TopicName) => Promise<MessageHandler>, log: () => Logger, stageName: string) {
  return async (cloudEvent: { id?: string; source?: string; data?: unknown }): Promise<void> => {
    const data = (cloudEvent.data ?? {}) as MessagePublishedData;
    const message = data.message;
    if (!message) {
      log().warn('ignored an event that is not a Pub/Sub messagePublished CloudEvent', { stage: stageName, eventId: cloudEvent.id });
      return;
    }
    const attributes = message.attributes ?? {};
    const topic = topicOfCloudEvent(topics, cloudEvent.source, attributes);
    if (!topic) {
      log().warn('ignored an event from a topic this stage does not consume', { stage: stageName, eventId: cloudEvent.id, source: cloudEvent.source });
      return;
    }
    const busMessage: BusMessage = {
      id: message.messageId ?? message.message_id ?? cloudEvent.id ?? '',
      data: Buffer.from(message.data ?? '', 'base64'),
      attributes,
      deliveryAttempt: data.deliveryAttempt ?? 1,
      publishTime: message.publishTime ? new Date(message.publishTime) : new Date(),
    };
    await (await handlerFor(topic))(busMessage);
  };
}
