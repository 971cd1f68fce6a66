import { randomBytes } from 'node:crypto';
import { redactedError } from '../../shared/log/redact.js';
import { requireCredentials } from '../../shared/runtime/credentials.js';

/**
 * The short-lived subscription one `baton await` reads from. Pub/Sub gives a subscription only
 * the messages published after it exists, so `await` makes its own (then reads the ledger for
 * what ended before), and deletes it on every way out.
 */

/**
 * `baton-await-<runId>-<stage>[-<service>]-<random>`, within Pub/Sub's rules: starts with a
 * letter, 3–255 of `[A-Za-z0-9-_.~+%]`. The random part keeps two waits on the same stage
 * (a Jenkins replay, a person at a terminal) from sharing, and so stealing, each other's messages.
 */
export function awaitSubscriptionName(runId: string, stage: string, service?: string): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9_.~+-]/g, '-');
  const parts = [safe(runId).slice(0, 160), stage, ...(service ? [safe(service).slice(0, 40)] : []), randomBytes(4).toString('hex')];
  return `baton-await-${parts.join('-')}`;
}

/**
 * The server-side filter for one run. The Pub/Sub emulator accepts it but does not apply it, so it
 * only saves traffic deployed; `await` checks `run_id` itself either way. A run id that would need
 * escaping gets no filter rather than a wrong one (filters are limited to 256 bytes).
 */
export function runFilter(runId: string): string | undefined {
  return /^[A-Za-z0-9._:@+-]{1,200}$/.test(runId) ? `attributes.run_id = "${runId}"` : undefined;
}

export type CreateSubscriptionOptions = {
  projectId?: string;
  topic: string;
  name: string;
  runId: string;
  /** Create the topic when missing (the emulator starts empty; deployed, Terraform owns topics). */
  createTopic: boolean;
};

/**
 * Creates the wait's subscription on Google Cloud or the emulator. Deployed, the Jenkins service
 * account may create and delete subscriptions and attach them to baton's topics, but not read or
 * create topics, so this calls `createSubscription` on the topic directly. The subscription
 * expires by itself after a day idle, should the process be killed before it can delete it.
 */
export async function createAwaitSubscription(options: CreateSubscriptionOptions): Promise<void> {
  await requireCredentials('Pub/Sub', 'PUBSUB_EMULATOR_HOST');
  const { PubSub } = await import('@google-cloud/pubsub');
  const pubsub = new PubSub({ projectId: options.projectId });
  try {
    const topic = pubsub.topic(options.topic);
    if (options.createTopic) {
      await topic.create().catch((error: { code?: number }) => {
        if (error.code !== 6) throw error; // ALREADY_EXISTS
      });
    }
    const filter = runFilter(options.runId);
    await topic.createSubscription(options.name, {
      ackDeadlineSeconds: 60,
      expirationPolicy: { ttl: { seconds: 24 * 3_600 } },
      ...(filter ? { filter } : {}),
    });
  } catch (error) {
    throw redactedError(`failed to create subscription ${options.name} on ${options.topic}`, error);
  } finally {
    await pubsub.close().catch(() => undefined);
  }
}

/** Deletes a wait's subscription (when attaching to it failed after it was created). */
export async function deleteAwaitSubscription(projectId: string | undefined, name: string): Promise<void> {
  await requireCredentials('Pub/Sub', 'PUBSUB_EMULATOR_HOST');
  const { PubSub } = await import('@google-cloud/pubsub');
  const pubsub = new PubSub({ projectId });
  try {
    await pubsub.subscription(name).delete();
  } finally {
    await pubsub.close().catch(() => undefined);
  }
}
