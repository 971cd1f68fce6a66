import { randomUUID } from 'node:crypto';
import { DEAD_LETTER_COUNT_ATTRIBUTE, DEFAULT_MAX_DELIVERY_ATTEMPTS } from './bus.js';
import type { Bus, BusMessage, MessageHandler, SubscribeOptions, Subscription } from './bus.js';

export type InProcessBusOptions = {
  /**
   * Deliver every message this many extra times (e.g. 1 delivers each twice), to prove handlers
   * are idempotent the way Pub/Sub's at-least-once delivery demands.
   */
  duplicateDeliveries?: number;
  /** Called when a delivery fails, for logs or tests. */
  onDeliveryError?: (topic: string, subscription: string, message: BusMessage, error: unknown) => void;
};

type SubscriptionState = {
  name: string;
  topic: string;
  handler: MessageHandler;
  options: Required<Omit<SubscribeOptions, 'fresh'>>;
  open: boolean;
};

/**
 * A single-process bus with Pub/Sub's delivery semantics: fan-out to every subscription of a
 * topic, at-least-once delivery, redelivery with exponential backoff when the handler throws,
 * and `<topic>-dead-letter` after `maxDeliveryAttempts`. Messages to a topic with no
 * subscription are dropped, as on Pub/Sub.
 */
export class InProcessBus implements Bus {
  private readonly subscriptions = new Map<string, SubscriptionState>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(private readonly options: InProcessBusOptions = {}) {}

  async publish(topic: string, data: Buffer, attributes: Record<string, string> = {}): Promise<string> {
    if (this.closed) throw new Error(`failed to publish to ${topic}: the bus is closed`);
    const message: Omit<BusMessage, 'deliveryAttempt'> = {
      id: randomUUID(),
      data: Buffer.from(data),
      attributes: { ...attributes },
      publishTime: new Date(),
    };
    const copies = 1 + (this.options.duplicateDeliveries ?? 0);
    for (const subscription of this.subscriptions.values()) {
      if (subscription.topic !== topic) continue;
      for (let i = 0; i < copies; i++) this.schedule(subscription, message, 1, 0);
    }
    return message.id;
  }

  async subscribe(topic: string, name: string, handler: MessageHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    const state: SubscriptionState = {
      name,
      topic,
      handler,
      open: true,
      options: {
        maxDeliveryAttempts: options.maxDeliveryAttempts ?? DEFAULT_MAX_DELIVERY_ATTEMPTS,
        minBackoffMs: options.minBackoffMs ?? 100,
        maxBackoffMs: options.maxBackoffMs ?? 5_000,
        deadLetter: options.deadLetter ?? true,
      },
    };
    this.subscriptions.set(name, state);
    return {
      close: async () => {
        state.open = false;
        if (this.subscriptions.get(name) === state) this.subscriptions.delete(name);
      },
    };
  }

  /** Resolves once no delivery is running or waiting for a retry: the chain has settled. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.subscriptions.clear();
    this.inFlight = 0;
    this.settle();
  }

  private schedule(subscription: SubscriptionState, message: Omit<BusMessage, 'deliveryAttempt'>, attempt: number, delayMs: number): void {
    this.inFlight++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.deliver(subscription, message, attempt);
    }, delayMs);
    this.timers.add(timer);
  }

  private async deliver(subscription: SubscriptionState, message: Omit<BusMessage, 'deliveryAttempt'>, attempt: number): Promise<void> {
    try {
      if (!subscription.open) return;
      try {
        await subscription.handler({ ...message, attributes: { ...message.attributes }, deliveryAttempt: attempt });
      } catch (error) {
        this.options.onDeliveryError?.(subscription.topic, subscription.name, { ...message, deliveryAttempt: attempt }, error);
        const { maxDeliveryAttempts, minBackoffMs, maxBackoffMs, deadLetter } = subscription.options;
        if (attempt < maxDeliveryAttempts) {
          const backoff = Math.min(maxBackoffMs, minBackoffMs * 2 ** (attempt - 1));
          this.schedule(subscription, message, attempt + 1, backoff);
        } else if (deadLetter && !this.closed) {
          await this.publish(`${subscription.topic}-dead-letter`, message.data, {
            ...message.attributes,
            [DEAD_LETTER_COUNT_ATTRIBUTE]: String(attempt),
          });
        }
      }
    } finally {
      this.inFlight = Math.max(0, this.inFlight - 1);
      this.settle();
    }
  }

  private settle(): void {
    if (this.inFlight !== 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
