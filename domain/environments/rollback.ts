import { createHash } from 'node:crypto';
import type { Decider } from '../../shared/contracts/index.js';
import type { RunLedger } from '../../shared/ledger/runLedger.js';
import type { Publisher } from '../../shared/stage/publisher.js';
import type { Environment } from './config.js';
import { outboxKey } from './keys.js';
import { rollbackTarget } from './release.js';

/**
 * A rollback is a run of its own (as a Cloud Deploy rollback is a new rollout): it deploys an
 * earlier run's release to one environment through the same chart and deploy stages, with its
 * own timeline, and its newest order makes it the one way an environment moves back; an older
 * run still in flight can never overwrite it. It is created with its `approval-decided` in one
 * write, so a crash leaves either no rollback or one that the reconciler finishes.
 */
export type RollbackRequest = {
  pipeline: string;
  environment: Pick<Environment, 'name' | 'implicit'>;
  /** The run whose release to restore; default the newest earlier release that succeeded there. */
  toRunId?: string;
  /** The run whose failed verification caused it (automatic rollbacks). */
  fromRunId?: string;
  reason: string;
  by: Decider;
};

export type RollbackDeps = {
  ledger: RunLedger;
  publisher: Publisher<'approval-decided'>;
  /** The ledger stages of the rollback run (the environment's chart and deploy stages). */
  plan: readonly string[];
  now: () => Date;
};

export type RollbackStarted = { ok: true; runId: string; toRunId: string; created: boolean } | { ok: false; reason: string };

export async function startRollback(request: RollbackRequest, deps: RollbackDeps): Promise<RollbackStarted> {
  const environment = request.environment.name;
  const record = await deps.ledger.environments.get(request.pipeline, environment);
  const target = rollbackTarget(record.history, environment, request.toRunId);
  if (!target.ok) return target;
  const source = record.history.filter((entry) => entry.runId === target.runId && entry.status === 'succeeded').at(-1)!;
  const template = await deps.ledger.getRun(target.runId);
  const now = deps.now();
  // An automatic rollback is named after the run that failed, so a redelivery finds it again.
  const runId = request.fromRunId ? autoRollbackRunId(request.pipeline, environment, request.fromRunId) : rollbackRunId(request.pipeline, environment, `${request.by.via}:${request.by.id}:${now.toISOString()}`);
  const order = `${now.toISOString()}~${runId}`;
  const item = deps.publisher.event(
    'approval-decided',
    {
      runId,
      pipeline: request.pipeline,
      decision: 'approved',
      decidedBy: request.by,
      images: source.images,
      sha: template?.after ?? '0'.repeat(40),
      order,
      reason: request.reason,
      environment,
      kind: 'rollback',
      ...(source.chartCommit ? { restoreFrom: source.chartCommit } : {}),
    },
    outboxKey('approval-decided', environment),
  );
  const { created, run } = await deps.ledger.createRun(
    {
      runId,
      pipeline: request.pipeline,
      kind: 'app',
      order,
      provider: template?.provider ?? 'github',
      deliveryId: `rollback:${runId}`,
      repository: template?.repository ?? request.pipeline,
      ref: template?.ref ?? '',
      branch: template?.branch ?? '',
      before: template?.after ?? '0'.repeat(40),
      after: template?.after ?? '0'.repeat(40),
      pusher: { name: request.by.name ?? request.by.id },
      headMessage: `rollback of ${environment} to ${target.runId}: ${request.reason}`,
      services: source.images.map((image) => image.service),
      plan: [...deps.plan],
      release: source.images,
      rollback: { environment, toRunId: target.runId, ...(request.fromRunId ? { fromRunId: request.fromRunId } : {}), reason: request.reason, by: request.by },
    },
    now,
    {},
    { [item.key]: { topic: item.topic, event: item.event, at: now.toISOString() } },
  );
  const pending = run.outbox[item.key];
  if (pending && !pending.publishedAt) await deps.publisher.send([{ ...item, event: pending.event as typeof item.event }]);
  return { ok: true, runId, toRunId: target.runId, created };
}


function rollbackRunId(pipeline: string, environment: string, seed: string): string {
  return `${pipeline}-rollback-${environment}-${createHash('sha256').update(seed).digest('hex').slice(0, 8)}`;
}

/** The id of the rollback a failed verification of `fromRunId` starts: one per run and environment. */
export function autoRollbackRunId(pipeline: string, environment: string, fromRunId: string): string {
  return rollbackRunId(pipeline, environment, `auto:${fromRunId}`);
}
