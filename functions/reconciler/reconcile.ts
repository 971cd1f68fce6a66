import type { BatonConfig, Pipeline } from '../../shared/config/pipelineConfig.js';
import { findPipeline } from '../../shared/config/pipelineConfig.js';
import type { CloudBuildNotification } from '../../shared/contracts/index.js';
import { TERMINAL_BUILD_STATUSES, isTerminal } from '../../shared/contracts/index.js';
import type { OutboxEntry, RunLedger, RunRecord } from '../../shared/ledger/runLedger.js';
import { RUN_FINISHED_KEY, applyStageUpdate, endRun, isTerminalStageStatus } from '../../shared/ledger/runLedger.js';
import type { Logger } from '../../shared/log/logger.js';
import type { Builder } from '../../shared/runtime/builders/builder.js';
import { isReporter } from '../../shared/stage/declaration.js';
import type { Manifest } from '../../shared/stage/manifest.js';

/**
 * The reconciler: level-triggered recovery, the way Kubernetes controllers survive restarts.
 * Each pass walks the runs that have not ended and re-drives whatever is overdue:
 * - an outbox event a consumer has not handled within its deadline is published again (every
 *   stage is idempotent, so a second delivery is harmless);
 * - a build with an id but no end is looked up with the builder (Cloud Build's `getBuild`, the
 *   local builder's state on disk), and a build that has ended is announced again on
 *   `cloud-builds`, so `buildStatus` finishes it;
 * - a run past a stage's limit, or one whose events nobody takes up after several re-drives,
 *   is failed with the reason, and logged as `run-stuck` (an alert counts those);
 * - an ended run whose `run-finished` was written but never published (its writer died between
 *   the two) is announced.
 * A chart commit that landed without its OCI push is the first case: chartBump never handled its
 * `approval-decided`, so that is published again and chartBump finishes the publish.
 *
 * Reporters (gitStatus) are not waited on: an event only they have not handled is published for
 * them if it never went out, but never re-driven to them and never a reason to fail a run (the
 * bus retries a reporter, and a git host that is down must not fail or delay the run).
 *
 * Idempotent and safe as two instances at once: a re-drive at most duplicates a delivery, and
 * failing a run is a conditional write.
 */
export type ReconcileDeps = {
  ledger: RunLedger;
  manifest: Manifest;
  config: BatonConfig;
  builderFor: (pipeline: Pipeline) => Builder;
  /** Publishes an outbox entry again, as written. */
  republish: (key: string, entry: OutboxEntry) => Promise<unknown>;
  /** Announces a build's state on `cloud-builds`, as Cloud Build would. */
  announceBuild: (build: CloudBuildNotification) => Promise<unknown>;
  now: () => Date;
  log: Logger;
};

export type ReconcileOptions = {
  /**
   * The embedded runtime just started: it is the only process, so whatever was in flight
   * before it started died with the previous one and is re-driven at once, not after its deadline.
   */
  restartedAt?: Date;
  /** Runs read per pass. */
  limit?: number;
};

export type ReconcileSummary = { runs: number; redriven: string[]; builds: string[]; failed: string[]; announced: string[] };

/** Extra time a consumer gets beyond its own timeout before its event counts as lost. */
export const REDRIVE_GRACE_SECONDS = 30;
/** How long an outbox entry may stay unpublished before it is published for its writer. */
export const UNPUBLISHED_GRACE_SECONDS = 15;
/** Re-drives of one event before the run is failed as stuck. */
export const MAX_REDRIVES = 5;

export async function reconcile(deps: ReconcileDeps, options: ReconcileOptions = {}): Promise<ReconcileSummary> {
  const summary: ReconcileSummary = { runs: 0, redriven: [], builds: [], failed: [], announced: [] };
  const runs = await deps.ledger.listRunsWithStatus('running', options.limit ?? 500);
  summary.runs = runs.length;
  for (const run of runs) {
    try {
      await reconcileRun(run, deps, options, summary);
    } catch (error) {
      deps.log.warn('failed to reconcile a run; the next pass retries', { runId: run.runId, error });
    }
  }
  // After the running ones: a run this pass failed is announced by failRun already.
  for (const run of await deps.ledger.listRunsAwaitingFinish(options.limit ?? 500)) {
    try {
      await announceFinish(run, deps, options, summary);
    } catch (error) {
      deps.log.warn('failed to announce the end of a run; the next pass retries', { runId: run.runId, error });
    }
  }
  if (summary.redriven.length || summary.builds.length || summary.failed.length || summary.announced.length) deps.log.info('reconciled runs', { stage: 'reconciler', ...summary });
  return summary;
}

async function reconcileRun(run: RunRecord, deps: ReconcileDeps, options: ReconcileOptions, summary: ReconcileSummary): Promise<void> {
  const now = deps.now();
  const pipeline = findPipeline(deps.config, run.pipeline);
  const stuck = stuckStage(run, deps.manifest, pipeline, now);
  if (stuck) return failRun(run, stuck.stage, stuck.reason, deps, summary);

  for (const [key, entry] of Object.entries(run.outbox)) {
    const consumers = deps.manifest.consumers(entry.topic, run.kind);
    // What the run waits on; reporters never mark what they handled (see isReporter).
    const waitedOn = consumers.filter((consumer) => !isReporter(consumer) && !entry.handled?.[consumer.name]);
    // Written but never published (its writer died, or the bus refused it): a short grace only.
    const unpublished = entry.publishedAt === undefined && entry.redrivenAt === undefined;
    const pending = unpublished && waitedOn.length === 0 ? consumers : waitedOn;
    if (pending.length === 0) continue;
    const since = Date.parse(entry.redrivenAt ?? entry.publishedAt ?? entry.at);
    const beforeRestart = options.restartedAt !== undefined && since < options.restartedAt.getTime();
    const deadlineMs = unpublished ? UNPUBLISHED_GRACE_SECONDS * 1000 : (Math.max(...pending.map((consumer) => consumer.timeoutSeconds)) + REDRIVE_GRACE_SECONDS) * 1000;
    if (!beforeRestart && now.getTime() - since < deadlineMs) continue;
    const names = pending.map((consumer) => consumer.name).join(', ');
    if ((entry.redrives ?? 0) >= MAX_REDRIVES && waitedOn.length > 0) {
      return failRun(run, undefined, `${names} never took up ${entry.topic} after ${MAX_REDRIVES} re-drives`, deps, summary);
    }
    await deps.republish(key, entry);
    await note(run.runId, deps, `re-drove ${entry.topic} to ${names}`, (current) => {
      const stored = current.outbox[key];
      if (!stored) return false;
      stored.redrives = (stored.redrives ?? 0) + 1;
      stored.redrivenAt = now.toISOString();
      return true;
    });
    summary.redriven.push(`${run.runId}:${key}`);
  }

  if (!pipeline) return;
  for (const [service, build] of Object.entries(run.builds)) {
    if ((TERMINAL_BUILD_STATUSES as readonly string[]).includes(build.status)) continue;
    const state = await deps.builderFor(pipeline).get(build.buildId);
    if (!state || !isTerminal(state.status)) continue;
    // The builder knows the end that buildStatus never heard of: say it again, as Cloud Build would.
    await deps.announceBuild(state);
    await note(run.runId, deps, `asked the builder about ${service}'s build ${build.buildId}: ${state.status}`);
    summary.builds.push(`${run.runId}:${service}`);
  }
}

/** The first stage of the run that has stayed running or waiting past its limit, or the run idle past its next stage's. */
function stuckStage(run: RunRecord, manifest: Manifest, pipeline: Pipeline | undefined, now: Date): { stage?: string; reason: string } | undefined {
  const plan = manifest.plan(run);
  for (const stage of plan) {
    const record = run.stages[stage];
    if (!record || isTerminalStageStatus(record.status)) continue;
    const limit = manifest.stuckAfterSeconds(stage, pipeline);
    const since = Date.parse(record.startedAt);
    if (now.getTime() - since > limit * 1000) return { stage, reason: `${stage} has been ${record.status} since ${record.startedAt}, past its limit of ${limit} s` };
    return undefined;
  }
  // Nothing running or waiting: the next stage should have started by now.
  const next = plan.find((stage) => !run.stages[stage]);
  if (!next) return undefined;
  const limit = manifest.stuckAfterSeconds(next, pipeline);
  if (now.getTime() - Date.parse(run.updatedAt) > limit * 1000) return { stage: next, reason: `${next} has not started since ${run.updatedAt}, past its limit of ${limit} s` };
  return undefined;
}

async function failRun(run: RunRecord, stage: string | undefined, reason: string, deps: ReconcileDeps, summary: ReconcileSummary): Promise<void> {
  const at = deps.now();
  const { run: ended, changed } = await deps.ledger.updateRun(run.runId, (current) => {
    // Conditional: another reconciler (or the stage itself) may have moved the run meanwhile.
    if (current.status !== 'running') return false;
    const record = stage ? current.stages[stage] : undefined;
    if (record && isTerminalStageStatus(record.status)) return false;
    current.history.push({ at: at.toISOString(), by: 'reconciler', note: `failed the run: ${reason}` });
    if (stage && current.stages[stage]) applyStageUpdate(current, stage, { status: 'failed', detail: reason, at }, deps.manifest.plan);
    if (current.status === 'running') endRun(current, 'failed', reason, deps.manifest.plan(current), at.toISOString());
    return true;
  });
  if (!changed) return;
  // The one log line the `runs stuck` alert counts (terraform/modules/alerts).
  deps.log.warn('failed a run stuck past its limit', { event: 'run-stuck', runId: run.runId, pipeline: run.pipeline, stage: stage ?? 'unknown', reason });
  summary.failed.push(run.runId);
  // The write above ended the run and so holds its run-finished: published now, as the stage
  // runner does after its own writes (a failure here is left to the next pass, by finishPending).
  const finished = ended?.outbox[RUN_FINISHED_KEY];
  if (finished) await deps.republish(RUN_FINISHED_KEY, finished);
}

/** Publishes an ended run's `run-finished` that its writer never did, after the short grace a live writer gets. */
async function announceFinish(run: RunRecord, deps: ReconcileDeps, options: ReconcileOptions, summary: ReconcileSummary): Promise<void> {
  const entry = run.outbox[RUN_FINISHED_KEY];
  if (!entry || run.status === 'running') return;
  const since = Date.parse(entry.at);
  const beforeRestart = options.restartedAt !== undefined && since < options.restartedAt.getTime();
  // Already published (only the mark was lost): publishing it once more is harmless, and clears it.
  if (entry.publishedAt === undefined && !beforeRestart && deps.now().getTime() - since < UNPUBLISHED_GRACE_SECONDS * 1000) return;
  await deps.republish(RUN_FINISHED_KEY, entry);
  summary.announced.push(run.runId);
}

/** A line in the run's history, for `baton status`: "re-driven by the reconciler at …". */
async function note(runId: string, deps: ReconcileDeps, what: string, change: (run: RunRecord) => boolean = () => true): Promise<void> {
  const at = deps.now().toISOString();
  await deps.ledger.updateRun(runId, (current) => {
    change(current);
    current.history.push({ at, by: 'reconciler', note: what });
    return true;
  });
}
