/**
 * The message bus every stage publishes to and consumes from. Two implementations share one
 * contract suite (`test/bus`): Pub/Sub (deployed, and the emulators) and the in-process bus
 * (embedded runtime). Both deliver at least once, so handlers must be idempotent.
 */
export type BusMessage = {
  /** Publisher-assigned message id (Pub/Sub's messageId). */
  id: string;
  /** Raw payload bytes. */
  data: Buffer;
  /** String attributes; baton sets `type` and `run_id`. */
  attributes: Record<string, string>;
  /** 1 on the first delivery; counted like Pub/Sub's dead-letter `deliveryAttempt`. */
  deliveryAttempt: number;
  publishTime: Date;
};

/** Resolve to ack; throw to nack (the bus redelivers with backoff, then dead-letters). */
export type MessageHandler = (message: BusMessage) => Promise<void>;

export type SubscribeOptions = {
  /** Deliveries before the message goes to `<topic>-dead-letter` (Pub/Sub allows 5 to 100). Default 5. */
  maxDeliveryAttempts?: number;
  /** First redelivery delay; doubles per attempt up to `maxBackoffMs`. Default 100 ms in-process, 10 s on Pub/Sub. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Send exhausted messages to `<topic>-dead-letter`. Default true. */
  deadLetter?: boolean;
  /**
   * Where the bus creates subscriptions (the emulator): start from a new one, named apart, and
   * delete the ones earlier processes left. The Pub/Sub emulator keeps handing messages to the
   * streams of a subscriber that was killed (the client opens several) until each one's ack
   * deadline passes, even on a subscription deleted and created again under the same name; a
   * restarted embedded stack starts clean instead, since its reconciler re-drives whatever the
   * previous process left unhandled.
   */
  fresh?: boolean;
};

export interface Subscription {
  /** Stops delivery. With `remove`, also deletes the subscription where the bus keeps one (Pub/Sub). */
  close(options?: { remove?: boolean }): Promise<void>;
}

export interface Bus {
  /** Publishes one message to `topic` and resolves with its id once the bus has accepted it. */
  publish(topic: string, data: Buffer, attributes?: Record<string, string>): Promise<string>;
  /** Attaches `handler` to the named subscription on `topic`, creating either if missing. */
  subscribe(topic: string, subscription: string, handler: MessageHandler, options?: SubscribeOptions): Promise<Subscription>;
  /** Flushes pending publishes and releases clients. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_DELIVERY_ATTEMPTS = 5;

/** Pub/Sub's attribute naming the delivery count a dead-lettered message had reached. */
export const DEAD_LETTER_COUNT_ATTRIBUTE = 'CloudPubSubDeadLetterSourceDeliveryCount';
