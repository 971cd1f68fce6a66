import { IMPLICIT_ENVIRONMENT } from '../../shared/contracts/index.js';

/**
 * The outbox key of a per-environment event: one event per run, topic and environment
 * (`approval-decided:prod`). The implicit environment keeps the plain topic, as runs recorded
 * before environments have it.
 */
export function outboxKey(topic: string, environment: string): string {
  return environment === IMPLICIT_ENVIRONMENT ? topic : `${topic}:${environment}`;
}
