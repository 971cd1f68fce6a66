import type { Bus } from '../bus/bus.js';
import type { BatonTopic, EventInput, EventOf, TopicName } from '../contracts/index.js';
import { makeEvent } from '../contracts/index.js';
import type { OutboxEntry } from '../ledger/runRecord.js';
import type { Logger } from '../log/logger.js';

/** An event ready for a run's outbox: validated, with its key. */
export type OutboxItem<T extends BatonTopic = BatonTopic> = { key: string; topic: T; event: EventOf<T> };

/** The message attribute that names an event's outbox entry, so its consumer can mark it handled. */
export const OUTBOX_KEY_ATTRIBUTE = 'outbox_key';

/**
 * A stage's publisher, typed to the topics it declares: `event()` of another topic does not
 * compile, and is refused at run time too (a declaration read as data, e.g. by a test, cannot
 * be bypassed). Events are first written to the run's outbox by the caller, in the same write as
 * the change they announce; `send()` then publishes them, and a failure is left to the
 * reconciler, which publishes every unhandled outbox entry again.
 */
export class Publisher<P extends TopicName> {
  /**
   * Kept as plain names: `P` then appears only in method signatures, so a stage that publishes
   * nothing (`Publisher<never>`, a reporter) still fits the erased `AnyStage` the machinery walks.
   */
  private readonly declared: readonly string[];

  constructor(
    private readonly stage: string,
    declared: readonly P[],
    private readonly bus: () => Bus,
    private readonly log: Logger,
    /** Where a published entry is marked as such (the run ledger). */
    private readonly markPublished?: (runId: string, keys: string[]) => Promise<void>,
  ) {
    this.declared = declared;
  }

  /** Builds and validates an event of a declared topic. */
  event<T extends Extract<P, BatonTopic>>(topic: T, input: EventInput<T>, key: string = topic): OutboxItem<T> {
    this.check(topic);
    return { key, topic, event: makeEvent(topic, input) as EventOf<T> };
  }

  /** Publishes outbox items and marks them published; resolves with the keys that could not be published (logged, left for the reconciler). */
  async send(items: ReadonlyArray<OutboxItem<Extract<P, BatonTopic>>>): Promise<string[]> {
    const failed: string[] = [];
    const sent = new Map<string, string[]>();
    for (const item of items) {
      this.check(item.topic);
      try {
        await publishOutboxEntry(this.bus(), item.key, { topic: item.topic, event: item.event });
        sent.set(item.event.runId, [...(sent.get(item.event.runId) ?? []), item.key]);
      } catch (error) {
        failed.push(item.key);
        this.log.warn('failed to publish an event; it stays in the outbox for the reconciler', { stage: this.stage, topic: item.topic, key: item.key, runId: item.event.runId, error });
      }
    }
    for (const [runId, keys] of sent) {
      // Only a hint for recovery: a missing mark costs one early re-publish, never an event.
      await this.markPublished?.(runId, keys).catch((error: unknown) => this.log.warn('failed to mark an event published', { stage: this.stage, runId, keys, error }));
    }
    return failed;
  }

  /** Publishes an outbox entry again, as it was written, and marks it published (the reconciler, a re-driving intake). */
  async republish(key: string, entry: Pick<OutboxEntry, 'topic' | 'event'>): Promise<string> {
    this.check(entry.topic);
    const id = await publishOutboxEntry(this.bus(), key, entry);
    await this.markPublished?.(String(entry.event.runId), [key]).catch((error: unknown) => this.log.warn('failed to mark an event published', { stage: this.stage, key, error }));
    return id;
  }

  /** Publishes raw bytes on a declared topic that is not baton's own (the reconciler re-announcing a build on `cloud-builds`). */
  async raw(topic: P, data: Buffer, attributes: Record<string, string>): Promise<string> {
    this.check(topic);
    return this.bus().publish(topic, data, attributes);
  }

  private check(topic: string): void {
    if (!this.declared.includes(topic)) {
      throw new Error(`stage ${this.stage} may not publish ${topic}: it may publish ${this.declared.join(', ') || 'no topics'}`);
    }
  }
}

/** Publishes one outbox entry: the event as JSON, with the attributes every baton message carries. */
export async function publishOutboxEntry(bus: Bus, key: string, entry: Pick<OutboxEntry, 'topic' | 'event'>): Promise<string> {
  const runId = String(entry.event.runId);
  return bus.publish(entry.topic, Buffer.from(JSON.stringify(entry.event)), { type: entry.topic, run_id: runId, [OUTBOX_KEY_ATTRIBUTE]: key });
}
