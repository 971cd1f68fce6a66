import type { z } from 'zod';
import { TOPIC_SCHEMAS } from '../contracts/index.js';
import type { EventOf, TopicName } from '../contracts/index.js';

/**
 * Decoding on top of the raw bus: a message's data is validated against its topic's contract
 * before anyone acts on it. Publishing goes through a stage's `Publisher` and the run's outbox
 * (`shared/stage/publisher.ts`), which sets the attributes every baton message carries.
 */
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
