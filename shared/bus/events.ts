import type { z } from 'zod';
import { TOPIC_SCHEMAS, makeEvent } from '../contracts/index.js';
import type { BatonTopic, EventInput, EventOf, TopicName } from '../contracts/index.js';
import type { Bus, BusMessage, MessageHandler } from './bus.js';

/**
 * Typed publishing and consuming on top of the raw bus: the contract is validated on both
 * sides, and the attributes every baton message carries (`type`, `run_id`) are set here once.
 */
export async function publishEvent<T extends BatonTopic>(bus: Bus, topic: T, input: EventInput<T>): Promise<EventOf<T>> {
  const event = makeEvent(topic, input);
  await bus.publish(topic, Buffer.from(JSON.stringify(event)), { type: topic, run_id: event.runId });
  return event;
}

export type DecodeResult<T extends TopicName> = { ok: true; event: EventOf<T> } | { ok: false; error: string };

/** Parses and validates one message's data against its topic's schema. Never throws. */
export function decodeEvent<T extends TopicName>(topic: T, data: Buffer | string): DecodeResult<T> {
  let json: unknown;
  try {
    json = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch (error) {
    return { ok: false, error: `data is not JSON: ${(error as Error).message}` };
  }
  const schema: z.ZodType = TOPIC_SCHEMAS[topic];
  const result = schema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    return { ok: false, error: `does not match the ${topic} contract: ${issues.join('; ')}` };
  }
  return { ok: true, event: result.data as EventOf<T> };
}

export type EventContext = { messageId: string; deliveryAttempt: number; attributes: Record<string, string> };
export type EventHandler<T extends TopicName> = (event: EventOf<T>, context: EventContext) => Promise<void>;

/**
 * Wraps a typed handler as a bus handler. A message that can never be valid is reported and
 * acked (retrying would not fix it); an error from the handler itself propagates so the bus
 * redelivers, and after the allowed attempts dead-letters it.
 */
export function eventConsumer<T extends TopicName>(
  topic: T,
  handler: EventHandler<T>,
  onInvalid: (message: BusMessage, error: string) => void,
): MessageHandler {
  return async (message) => {
    const decoded = decodeEvent(topic, message.data);
    if (!decoded.ok) {
      onInvalid(message, decoded.error);
      return;
    }
    await handler(decoded.event, { messageId: message.id, deliveryAttempt: message.deliveryAttempt, attributes: message.attributes });
  };
}
