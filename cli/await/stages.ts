import type { BatonTopic, EventOf } from '../../shared/contracts/index.js';
import type { StageStatus } from '../../shared/ledger/runLedger.js';
import type { AnyStage } from '../../shared/stage/declaration.js';
import { STAGES } from '../../functions/stages.js';

/**
 * The stages `baton await` can wait for, as the Jenkinsfile names them: every stage whose
 * declaration says people watch it (`watch`), with the topic that announces its end and the
 * run-ledger stage that records it. Derived from `functions/stages.ts`; nothing is listed here.
 */
export type AwaitSpec = { topic: BatonTopic; ledgerStage: string; defaultTimeoutSeconds: number };

export function awaitStagesOf(stages: readonly AnyStage[]): Readonly<Record<string, AwaitSpec>> {
  return Object.fromEntries(
    stages.flatMap((stage) => (stage.watch && stage.ledgerStage ? [[stage.watch.as, { topic: stage.watch.topic, ledgerStage: stage.ledgerStage, defaultTimeoutSeconds: stage.watch.defaultTimeoutSeconds }]] : [])),
  );
}

export const AWAIT_STAGES = awaitStagesOf(STAGES);

export type AwaitStage = string;
export type StageTopic = BatonTopic;

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
    case 'release-verified':
      return event.verdict === 'passed' ? 'succeeded' : 'failed';
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
    case 'rolled-back':
    case 'canceled':
      return 'failed';
    default:
      return undefined;
  }
}

/** `baton await`'s exit codes (documented in `jenkins/README.md`). */
export const EXIT = { succeeded: 0, failed: 1, timeout: 2, usage: 3 } as const;
