import type { LocalRetryBody } from '../../domain/approval/localRoutes.js';
import { findPipeline } from '../../shared/config/pipelineConfig.js';
import { PushReceived } from '../../shared/contracts/index.js';
import type { RunLedger, RunRecord } from '../../shared/ledger/runLedger.js';
import { crashPoint } from '../../shared/stage/crashPoint.js';
import { strandedAtIntake } from './intake.js';
import type { RunStartDeps } from './intake.js';

/** The run, who asks (`cli:alice`) and why; its schema is the loopback route's body (`LocalRetryBody`), declared once there. */
export type RetryRequest = LocalRetryBody;

export type RetryOutcome =
  | { ok: true; outcome: 'started' | 'already-retrying'; runId: string; retryOf: string; attempt: number; message: string }
  | { ok: false; outcome: 'not-found' | 'running' | 'not-a-push' | 'no-pipeline'; runId: string; message: string };

/** The outbox key intake writes a run's `push-received` under. */
const PUSH_KEY = 'push-received';
/** Attempts of one push are read one by one to find the newest; past this many something is wrong. */
const MAX_ATTEMPTS = 100;

export function retryRunId(firstRunId: string, attempt: number): string {
  return `${firstRunId}-r${attempt}`;
}

/** Right after the first run's order, before any later push's; zero-padded so that attempt 10 sorts after attempt 9. */
export function retryOrder(firstRunOrder: string, attempt: number): string {
  return `${firstRunOrder}~${String(attempt).padStart(4, '0')}`;
}

/**
 * `baton retry <runId>`: the push a run started from, run again as a new run, the way Cloud
 * Build's "Retry" and Jenkins' "Rebuild" start a new build of the same source. The whole chain
 * runs again (mirror, build, approval, chart, deploy): nothing of the earlier attempt is reused,
 * so a flaky build or test gets a clean try.
 *
 * - **Ids.** Attempt n of a push's first run `R` is `R-r<n>`. A retry of any attempt is a retry
 *   of `R`, so the attempts of one push count up in one sequence.
 * - **Once.** The attempt is one create-if-absent write of the run with its `push-received` in
 *   the outbox, as intake writes a run. Two retries at once reach the same id, and the second is
 *   told `already-retrying`, as is a retry while the newest attempt still runs. A crash after
 *   the write is repaired by the reconciler, or by asking again, as a redelivery repairs intake's.
 * - **Order.** An attempt sorts right after the push's first run and before any later push
 *   (`<first run's order>~<attempt>`): a retry of an old push never deploys over a newer one
 *   (environments never move a service back).
 * - **Refused:** an unknown run, a run that is still running (`baton cancel` it first), a
 *   rollback run (start another with `baton rollback`), a pipeline that has left the config.
 *
 * The run's stages and environments are the pipeline's as configured now, as a Jenkins rebuild
 * reads the Jenkinsfile of today.
 */
export async function retryRun(request: RetryRequest, deps: RunStartDeps): Promise<RetryOutcome> {
  const refused = (outcome: Extract<RetryOutcome, { ok: false }>['outcome'], message: string): RetryOutcome => ({ ok: false, outcome, runId: request.runId, message });
  const source = await deps.ledger.getRun(request.runId);
  if (!source) return refused('not-found', `run ${request.runId} not found`);
  if (source.rollback) return refused('not-a-push', `run ${source.runId} is a rollback, not a push: start another with baton rollback`);
  const pushed = PushReceived.safeParse(source.outbox[PUSH_KEY]?.event);
  if (!pushed.success) return refused('not-a-push', `run ${source.runId} holds no push to run again`);
  const pipeline = findPipeline(deps.config, source.pipeline);
  if (!pipeline) return refused('no-pipeline', `pipeline ${source.pipeline} is not in ${deps.config.file}`);

  const first = source.retry?.runId ?? source.runId;
  const newest = await newestAttempt(deps.ledger, first, source);
  if (newest.run?.status === 'running') {
    if (newest.run.runId === source.runId) return refused('running', `run ${source.runId} is still running: cancel it first (baton cancel ${source.runId})`);
    // An attempt whose start a crash cut off is driven on, as a redelivered webhook drives its run.
    const stranded = strandedAtIntake(newest.run, PUSH_KEY);
    if (stranded) await deps.publisher.republish(PUSH_KEY, stranded);
    const message = `run ${first} is already being retried as ${newest.run.runId}${stranded ? ' (its start, cut off, was published again)' : ''}`;
    return { ok: true, outcome: 'already-retrying', runId: newest.run.runId, retryOf: first, attempt: newest.attempt, message };
  }

  const attempt = newest.attempt + 1;
  const runId = retryRunId(first, attempt);
  const at = deps.now();
  // The first run's order is the prefix of every attempt's (run ids hold no "~").
  const order = retryOrder(source.retry ? source.order.slice(0, source.order.lastIndexOf('~')) : source.order, attempt);
  const { type: _type, version: _version, at: _at, ...push } = pushed.data;
  const item = deps.publisher.event('push-received', { ...push, runId, kind: pipeline.kind, order, at: at.toISOString() });
  const detail = `attempt ${attempt} of ${first}, retried by ${request.by}${request.reason ? `: ${request.reason}` : ''}`;
  const { created, run } = await deps.ledger.createRun(
    {
      runId,
      pipeline: pipeline.name,
      kind: pipeline.kind,
      order,
      provider: source.provider,
      deliveryId: source.deliveryId,
      repository: source.repository,
      ref: source.ref,
      branch: source.branch,
      before: source.before,
      after: source.after,
      pusher: source.pusher,
      ...(source.headMessage !== undefined ? { headMessage: source.headMessage } : {}),
      ...(source.compareUrl ? { compareUrl: source.compareUrl } : {}),
      // As intake decided them: when the push could not tell, the mirror stage works them out again.
      services: push.services,
      plan: deps.plan(pipeline),
      retry: { runId: first, attempt, by: request.by, ...(request.reason ? { reason: request.reason } : {}) },
    },
    at,
    { intake: { status: 'succeeded', startedAt: at.toISOString(), endedAt: at.toISOString(), detail } },
    { [item.key]: { topic: item.topic, event: item.event, at: at.toISOString() } },
  );
  if (!created) return { ok: true, outcome: 'already-retrying', runId, retryOf: first, attempt, message: `run ${first} is already being retried as ${runId}` };
  crashPoint('retry:after-ledger-write');
  const log = deps.log.child({ stage: 'intake', runId, pipeline: pipeline.name });
  // A failed publish stays in the outbox, for the reconciler, as intake's does.
  if ((await deps.publisher.send([item])).length) log.warn('started a retry whose event could not be published yet', { retryOf: first });
  log.info('started a retry', { retryOf: first, attempt, by: request.by });
  return { ok: true, outcome: 'started', runId: run.runId, retryOf: first, attempt, message: `run ${run.runId} started: ${detail}` };
}

/** The push's newest run: its first run (attempt 1) or the highest attempt written after it. */
async function newestAttempt(ledger: RunLedger, first: string, source: RunRecord): Promise<{ attempt: number; run: RunRecord | undefined }> {
  // attemptsOf always holds attempt 1 (its run undefined when the first run is gone).
  return (await attemptsOf(ledger, first, source)).at(-1)!;
}

/**
 * Every run of a run's push, in attempt order: its first run (when it is still there) and each
 * retry. What `baton status` lists, so that a failed run shows it was tried again.
 */
export async function pushAttempts(ledger: RunLedger, run: RunRecord): Promise<Array<{ attempt: number; run: RunRecord }>> {
  return (await attemptsOf(ledger, run.retry?.runId ?? run.runId, run)).filter((entry): entry is { attempt: number; run: RunRecord } => entry.run !== undefined);
}

async function attemptsOf(ledger: RunLedger, first: string, source: RunRecord): Promise<Array<{ attempt: number; run: RunRecord | undefined }>> {
  const attempts = [{ attempt: 1, run: first === source.runId ? source : await ledger.getRun(first) }];
  for (let attempt = 2; attempt <= MAX_ATTEMPTS; attempt++) {
    const run = attempt === source.retry?.attempt ? source : await ledger.getRun(retryRunId(first, attempt));
    if (!run) return attempts;
    attempts.push({ attempt, run });
  }
  throw new Error(`run ${first} has been retried ${MAX_ATTEMPTS} times`);
}
