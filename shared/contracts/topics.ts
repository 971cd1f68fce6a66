/**
 * The topic registry: every Pub/Sub topic baton publishes to or consumes, by its exact name.
 * Terraform (`terraform/modules/pubsub`) must declare exactly these topics, each with a
 * `<topic>-dead-letter` twin; `test/terraform` cross-checks the two.
 */
export const TOPICS = [
  'push-received',
  'source-mirrored',
  'build-started',
  'cloud-builds',
  'build-finished',
  'approval-requested',
  'approval-decided',
  'chart-published',
  'deploy-finished',
  'release-verified',
  'promotion-requested',
  'run-finished',
] as const;

export type TopicName = (typeof TOPICS)[number];

/** Cloud Build owns this topic and its message format; baton only consumes it (and the local builder imitates it). */
export const CLOUD_BUILD_TOPIC = 'cloud-builds' satisfies TopicName;

/** The dead-letter topic that a subscription on `topic` sends undeliverable messages to. */
export function deadLetterTopic(topic: TopicName): string {
  return `${topic}-dead-letter`;
}

export function isTopicName(value: string): value is TopicName {
  return (TOPICS as readonly string[]).includes(value);
}
