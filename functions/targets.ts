import type { TopicName } from '../shared/contracts/topics.js';

/**
 * Every function target the package registers, with its trigger. This table is the single
 * source for the functions-framework registration (`functions/index.ts`), the embedded
 * runtime, and the Terraform cross-check (`test/terraform`).
 */
export const TARGETS = [
  { name: 'webhookIntake', trigger: { kind: 'http' } },
  { name: 'repoMirror', trigger: { kind: 'topic', topic: 'push-received' } },
  { name: 'buildTrigger', trigger: { kind: 'topic', topic: 'source-mirrored' } },
  { name: 'buildStatus', trigger: { kind: 'topic', topic: 'cloud-builds' } },
  { name: 'approvalRequest', trigger: { kind: 'topic', topic: 'build-finished' } },
  { name: 'approvalCallback', trigger: { kind: 'http' } },
  { name: 'chartBump', trigger: { kind: 'topic', topic: 'approval-decided' } },
  { name: 'deployWatch', trigger: { kind: 'topic', topic: 'chart-published' } },
] as const satisfies readonly TargetSpec[];

export type TargetSpec = {
  name: string;
  trigger: { kind: 'http' } | { kind: 'topic'; topic: TopicName };
};

export type TargetName = (typeof TARGETS)[number]['name'];
