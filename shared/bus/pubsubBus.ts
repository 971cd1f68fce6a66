import { randomBytes } from 'node:crypto';
import type { PubSub, Topic } from '@google-cloud/pubsub';
import { DEFAULT_MAX_DELIVERY_ATTEMPTS } from './bus.js';
import type { Bus, MessageHandler, SubscribeOptions, Subscription } from './bus.js';
import { requireCredentials } from '../runtime/credentials.js';

export type PubSubBusOptions = {
  projectId?: string;
  /**
   * Create missing topics and subscriptions. On by default against the emulator (which starts
   * empty); off in production, where Terraform owns them and the functions' service accounts
   * may not create topics.
   */
  autoCreate?: boolean;
};

/** How long a removed subscription's last lease call gets before the subscription is deleted. */
const SETTLE_BEFORE_DELETE_MS = 100;

/**
 * The Pub/Sub bus. `@google-cloud/pubsub` is loaded on first use, so a target that never
 * touches Pub/Sub pays nothing for it at cold start. One client per process, reused.
 */
export class PubSubBus implements Bus {
  private client?: Promise<PubSub>;
  private readonly topics = new Map<string, Promise<Topic>>();
  private readonly open = new Set<{ close(): Promise<void> }>();
  private readonly autoCreate: boolean;

  constructor(private readonly options: PubSubBusOptions = {}) {
    this.autoCreate = options.autoCreate ?? Boolean(process.env.PUBSUB_EMULATOR_HOST);
  }

  async publish(topic: string, data: Buffer, attributes: Record<string, string> = {}): Promise<string> {
    const handle = await this.topic(topic);
    return handle.publishMessage({ data, attributes });
  }

  async subscribe(topic: string, name: string, handler: MessageHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    const pubsub = await this.pubsub();
    const topicHandle = await this.topic(topic);
    const maxDeliveryAttempts = options.maxDeliveryAttempts ?? DEFAULT_MAX_DELIVERY_ATTEMPTS;
    if (this.autoCreate && options.fresh) {
      // A new subscription under a name of its own; the ones earlier processes left are deleted.
      const [existing] = await topicHandle.getSubscriptions();
      await Promise.all(
        existing
          .filter((candidate) => {
            const short = candidate.name.split('/').pop()!;
            return short === name || short.startsWith(`${name}~`);
          })
          .map((candidate) => candidate.delete().catch(() => undefined)),
      );
      name = `${name}~${randomBytes(4).toString('hex')}`;
    }
    let subscription = pubsub.subscription(name, { flowControl: { maxMessages: 100 } });
    if (this.autoCreate) {
      const [exists] = await subscription.exists();
      if (!exists) {
        const deadLetterTopic = options.deadLetter === false ? undefined : await this.topic(`${topic}-dead-letter`);
        const [created] = await topicHandle.createSubscription(name, {
          // Short: a message leased to a process that died comes back within seconds; the client
          // library extends the lease of one still being handled.
          ackDeadlineSeconds: 10,
          retryPolicy: {
            minimumBackoff: { seconds: Math.max(0, Math.round((options.minBackoffMs ?? 10_000) / 1000)) },
            maximumBackoff: { seconds: Math.max(1, Math.round((options.maxBackoffMs ?? 600_000) / 1000)) },
          },
          ...(deadLetterTopic ? { deadLetterPolicy: { deadLetterTopic: deadLetterTopic.name, maxDeliveryAttempts } } : {}),
        });
        subscription = pubsub.subscription(created.name, { flowControl: { maxMessages: 100 } });
      }
    }
    // Deliveries still being handled: close() waits for them, so the ledger is never closed under one.
    const inFlight = new Set<Promise<void>>();
    subscription.on('message', (message) => {
      const delivery = handler({
        id: message.id,
        data: message.data,
        attributes: { ...message.attributes },
        // deliveryAttempt is 0 when the subscription has no dead-letter policy.
        deliveryAttempt: message.deliveryAttempt || 1,
        publishTime: message.publishTime,
      }).then(
        () => message.ack(),
        () => message.nack(),
      );
      inFlight.add(delivery);
      void delivery.finally(() => inFlight.delete(delivery));
    });
    subscription.on('error', (error) => {
      process.emitWarning(`pubsub subscription ${name}: ${error.message}`);
    });
    const handle = {
      close: async ({ remove = false }: { remove?: boolean } = {}) => {
        this.open.delete(handle);
        subscription.removeAllListeners('message');
        await Promise.allSettled([...inFlight]);
        await subscription.close();
        if (remove) {
          // close() does not wait for the lease the client takes on a message that arrived as its
          // stream closed (a modifyAckDeadline already sent): deleting at once fails that call with
          // NOT_FOUND after close has returned. Harmless, but under jest it lands after the test
          // file's teardown, so give it a moment to come back first.
          await new Promise((resolve) => setTimeout(resolve, SETTLE_BEFORE_DELETE_MS));
          await subscription.delete().catch(() => undefined);
        }
      },
    };
    this.open.add(handle);
    return handle;
  }

  async close(): Promise<void> {
    if (!this.client) return;
    await Promise.all([...this.open].map((subscription) => subscription.close()));
    const client = await this.client;
    await Promise.all([...this.topics.values()].map(async (topic) => (await topic).flush().catch(() => undefined)));
    await client.close();
    this.client = undefined;
    this.topics.clear();
  }

  private pubsub(): Promise<PubSub> {
    this.client ??= requireCredentials('Pub/Sub', 'PUBSUB_EMULATOR_HOST')
      .then(() => import('@google-cloud/pubsub'))
      .then(({ PubSub }) => new PubSub({ projectId: this.options.projectId }))
      .catch((error: unknown) => {
        this.client = undefined;
        throw error;
      });
    return this.client;
  }

  private topic(name: string): Promise<Topic> {
    let topic = this.topics.get(name);
    if (!topic) {
      topic = this.pubsub().then(async (pubsub) => {
        // Publish at once: each stage publishes one or two messages per event, and batching
        // would only add latency (the default batch waits up to 10 ms).
        const handle = pubsub.topic(name, { batching: { maxMessages: 1 } });
        if (this.autoCreate) {
          const [exists] = await handle.exists();
          if (!exists) await handle.create().catch((error: { code?: number }) => {
            if (error.code !== 6) throw error; // ALREADY_EXISTS: another process won the race.
          });
        }
        return handle;
      });
      topic.catch(() => this.topics.delete(name));
      this.topics.set(name, topic);
    }
    return topic;
  }
}
