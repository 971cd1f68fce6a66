import type { z } from 'zod';
import { CloudBuildNotification } from './cloudBuild.js';
import {
  ApprovalDecided,
  ApprovalRequested,
  BuildFinished,
  BuildStarted,
  ChartPublished,
  DeployFinished,
  PromotionRequested,
  PushReceived,
  ReleaseVerified,
  RunFinished,
  SourceMirrored,
} from './events.js';
import type { TopicName } from './topics.js';

export * from './envelope.js';
export * from './events.js';
export * from './cloudBuild.js';
export * from './topics.js';

/** The schema every message on a topic must satisfy. */
export const TOPIC_SCHEMAS = {
  'push-received': PushReceived,
  'source-mirrored': SourceMirrored,
  'build-started': BuildStarted,
  'cloud-builds': CloudBuildNotification,
  'build-finished': BuildFinished,
  'approval-requested': ApprovalRequested,
  'approval-decided': ApprovalDecided,
  'chart-published': ChartPublished,
  'deploy-finished': DeployFinished,
  'release-verified': ReleaseVerified,
  'promotion-requested': PromotionRequested,
  'run-finished': RunFinished,
} as const satisfies Record<TopicName, z.ZodType>;

/** The data type carried on a topic. */
export type EventOf<T extends TopicName> = z.infer<(typeof TOPIC_SCHEMAS)[T]>;

/** Topics whose data is a baton envelope (everything but Cloud Build's own). */
export type BatonTopic = Exclude<TopicName, 'cloud-builds'>;

/** The fields a producer supplies (defaulted ones may be left out); `type`, `version` and `at` are filled in by `makeEvent`. */
export type EventInput<T extends BatonTopic> = Omit<z.input<(typeof TOPIC_SCHEMAS)[T]>, 'type' | 'version' | 'at'> & { at?: string };

/** Builds a complete, validated event for `topic` (throws on a contract violation: a bug, not bad input). */
export function makeEvent<T extends BatonTopic>(topic: T, input: EventInput<T>): EventOf<T> {
  const schema = TOPIC_SCHEMAS[topic];
  const version = (schema.shape.version as z.ZodLiteral<number>).value;
  const candidate = { ...input, type: topic, version, at: input.at ?? new Date().toISOString() };
  return schema.parse(candidate) as EventOf<T>;
}
