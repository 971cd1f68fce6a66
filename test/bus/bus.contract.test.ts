import type { Bus, BusMessage } from '../../shared/bus/bus.js';
import { InProcessBus } from '../../shared/bus/inProcessBus.js';
import { PubSubBus } from '../../shared/bus/pubsubBus.js';
import { eventually, uniqueProject } from '../support/runtimes.js';

/**
 * One contract, two buses: the in-process bus must behave like Pub/Sub (as the emulator
 * does) in everything the stages rely on.
 */
type Harness = { bus: Bus; duplicating: Bus; cleanup: () => Promise<void> };

const harnesses: Record<string, () => Harness> = {
  'in-process bus': () => {
    const bus = new InProcessBus();
    const duplicating = new InProcessBus({ duplicateDeliveries: 1 });
    return { bus, duplicating, cleanup: async () => void (await Promise.all([bus.close(), duplicating.close()])) };
  },
  'Pub/Sub emulator': () => {
    const bus = new PubSubBus({ projectId: uniqueProject(), autoCreate: true });
    // Pub/Sub cannot be told to duplicate; a nacked message is its duplicate delivery.
    return { bus, duplicating: bus, cleanup: () => bus.close() };
  },
};

describe.each(Object.keys(harnesses))('%s', (name) => {
  let harness: Harness;
  const emulated = name === 'Pub/Sub emulator';
  const backoff = { minBackoffMs: emulated ? 0 : 10, maxBackoffMs: emulated ? 1_000 : 50 };

  beforeEach(() => {
    harness = harnesses[name]!();
  });
  afterEach(async () => {
    await harness.cleanup();
  });

  test('delivers a published message with its data and attributes', async () => {
    const received: BusMessage[] = [];
    await harness.bus.subscribe('t-basic', 's-basic', async (message) => void received.push(message));
    const id = await harness.bus.publish('t-basic', Buffer.from('{"hello":"wörld 🚀"}'), { type: 't-basic', run_id: 'r1' });
    const message = await eventually(() => received[0], 20_000, 'delivery');
    expect(message.id).toBe(id);
    expect(message.data.toString('utf8')).toBe('{"hello":"wörld 🚀"}');
    expect(message.attributes).toMatchObject({ type: 't-basic', run_id: 'r1' });
    expect(message.deliveryAttempt).toBe(1);
  });

  test('fans a message out to every subscription of the topic', async () => {
    const a: string[] = [];
    const b: string[] = [];
    await harness.bus.subscribe('t-fan', 's-fan-a', async (message) => void a.push(message.id));
    await harness.bus.subscribe('t-fan', 's-fan-b', async (message) => void b.push(message.id));
    const id = await harness.bus.publish('t-fan', Buffer.from('x'));
    await eventually(() => (a.length && b.length ? true : undefined), 20_000, 'both subscriptions');
    expect(a).toEqual([id]);
    expect(b).toEqual([id]);
  });

  test('redelivers after a handler error, counting the attempts', async () => {
    const attempts: number[] = [];
    await harness.bus.subscribe(
      't-retry',
      's-retry',
      async (message) => {
        attempts.push(message.deliveryAttempt);
        if (attempts.length < 3) throw new Error('transient');
      },
      { maxDeliveryAttempts: 5, ...backoff },
    );
    await harness.bus.publish('t-retry', Buffer.from('x'));
    await eventually(() => (attempts.length >= 3 ? true : undefined), 30_000, 'three attempts');
    expect(attempts.slice(0, 3)).toEqual([1, 2, 3]);
  });

  test('dead-letters to <topic>-dead-letter after the maximum attempts', async () => {
    const dead: BusMessage[] = [];
    let attempts = 0;
    await harness.bus.subscribe('t-dlq-dead-letter', 's-dlq-watch', async (message) => void dead.push(message), { deadLetter: false });
    await harness.bus.subscribe(
      't-dlq',
      's-dlq',
      async () => {
        attempts++;
        throw new Error('permanent');
      },
      { maxDeliveryAttempts: 5, ...backoff },
    );
    await harness.bus.publish('t-dlq', Buffer.from('poison'), { run_id: 'r-dead' });
    const message = await eventually(() => dead[0], 45_000, 'dead-lettered message');
    expect(message.data.toString()).toBe('poison');
    expect(message.attributes.run_id).toBe('r-dead');
    expect(attempts).toBe(5);
  });

  test('a duplicate delivery carries the same message id and data', async () => {
    const seen: BusMessage[] = [];
    await harness.duplicating.subscribe(
      't-dup',
      's-dup',
      async (message) => {
        seen.push(message);
        // On Pub/Sub the first delivery is nacked, which is how a duplicate arrives there.
        if (emulated && seen.length === 1) throw new Error('nack');
      },
      { maxDeliveryAttempts: 5, ...backoff },
    );
    const id = await harness.duplicating.publish('t-dup', Buffer.from('same'));
    await eventually(() => (seen.length >= 2 ? true : undefined), 30_000, 'two deliveries');
    expect(seen.map((message) => message.id)).toEqual([id, id]);
    expect(seen.map((message) => message.data.toString())).toEqual(['same', 'same']);
  });
});

test('the in-process bus reports when the chain has settled', async () => {
  const bus = new InProcessBus();
  const order: string[] = [];
  await bus.subscribe('a', 'sa', async () => {
    order.push('a');
    await bus.publish('b', Buffer.from('next'));
  });
  await bus.subscribe('b', 'sb', async () => void order.push('b'));
  await bus.publish('a', Buffer.from('start'));
  await bus.idle();
  expect(order).toEqual(['a', 'b']);
  await bus.close();
});
