import type { BatonTopic, EventOf } from '../../shared/contracts/index.js';
import type { Stage, StageStatus } from '../../shared/ledger/runLedger.js';

/**
 * The stages `baton await` can wait for, as the Jenkinsfile names them, with the topic that
 * announces each one's end and the run-ledger stage that records it.
 */
export const AWAIT_STAGES = {
  intake: { topic: 'push-received', ledgerStage: 'intake', defaultTimeoutSeconds: 120 },
  mirror: { topic: 'source-mirrored', ledgerStage: 'mirror', defaultTimeoutSeconds: 900 },
  build: { topic: 'build-finished', ledgerStage: 'build', defaultTimeoutSeconds: 3_600 },
  // An approval request stays open for 24 h by default (`approval.ttlSeconds`); wait a little longer
  // so the expiry itself is what ends the wait.
  approve: { topic: 'approval-decided', ledgerStage: 'approval', defaultTimeoutSeconds: 25 * 3_600 },
  chart: { topic: 'chart-published', ledgerStage: 'chart', defaultTimeoutSeconds: 900 },
  deploy: { topic: 'deploy-finished', ledgerStage: 'deploy', defaultTimeoutSeconds: 1_800 },
} as const satisfies Record<string, { topic: BatonTopic; ledgerStage: Stage; defaultTimeoutSeconds: number }>;

export type AwaitStage = keyof typeof AWAIT_STAGES;
export type StageTopic = (typeof AWAIT_STAGES)[AwaitStage]['topic'];

export function isAwaitStage(value: string): value is AwaitStage {
  return Object.hasOwn(AWAIT_STAGES, value);
}

/** What one stage came to: the Jenkins stage passes on `succeeded` only. */
export type StageOutcome = 'succeeded' | 'failed';

/**
 * The outcome one message announces. Intake, mirror and chart publish only on success (they
 * record failures in the ledger instead); the others carry their verdict in the event.
 */
export function eventOutcome(event: EventOf<StageTopic>): StageOutcome {
  switch (event.type) {
    case 'build-finished':
      return event.status === 'SUCCESS' ? 'succeeded' : 'failed';
    case 'approval-decided':
      return event.decision === 'approved' ? 'succeeded' : 'failed';
    case 'deploy-finished':
      return event.status === 'synced' || event.status === 'skipped' ? 'succeeded' : 'failed';
    default:
      return 'succeeded';
  }
}

/**
 * The outcome a terminal ledger stage status means. `skipped` passes (a deploy with no Argo CD,
 * every later stage of a push that affects no service), except an approval skipped because a
 * build failed: then nothing will be deployed, which `runEnded` (the run's own status) tells.
 */
export function ledgerOutcome(stage: AwaitStage, status: StageStatus, runEnded = false): StageOutcome | undefined {
  switch (status) {
    case 'succeeded':
      return 'succeeded';
    case 'skipped':
      return stage === 'approve' && runEnded ? 'failed' : 'succeeded';
    case 'failed':
    case 'rejected':
    case 'expired':
    case 'superseded':
      return 'failed';
    default:
      return undefined;
  }
}

/** `baton await`'s exit codes (documented in `jenkins/README.md`). */
export const EXIT = { succeeded: 0, failed: 1, timeout: 2, usage: 3 } as const;
