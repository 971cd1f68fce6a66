import type { CheckVerdict, Decider, ReleaseImage, SavedPlan } from '../contracts/index.js';
import { RunOrder } from '../contracts/envelope.js';
import { makeEvent } from '../contracts/index.js';
import type { DecisionRecord } from './approvals.js';

/**
 * A run as the ledger keeps it, and the pure rules that move it forward. The ledger owns the
 * shape; the stage runner and the reconciler change a run only through these functions, inside
 * one atomic update of the run's document, so a stage transition and the events it emits (the
 * outbox) are always written together.
 */

export const STAGE_STATUSES = ['running', 'waiting', 'succeeded', 'failed', 'skipped', 'rejected', 'expired', 'superseded', 'rolled-back', 'canceled'] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];
const TERMINAL: ReadonlySet<StageStatus> = new Set(['succeeded', 'failed', 'skipped', 'rejected', 'expired', 'superseded', 'rolled-back', 'canceled']);
/** Outcomes that end the whole run unsuccessfully. */
const RUN_ENDING: ReadonlySet<StageStatus> = new Set(['failed', 'rejected', 'expired', 'superseded', 'rolled-back', 'canceled']);

export function isTerminalStageStatus(status: StageStatus): boolean {
  return TERMINAL.has(status);
}

export function isRunEnding(status: StageStatus): boolean {
  return RUN_ENDING.has(status);
}

export type StageRecord = {
  status: StageStatus;
  startedAt: string;
  endedAt?: string;
  /** One line for people: what happened or why not. */
  detail?: string;
  /** Links for people (build logs, Slack message, chart reference). */
  links?: Record<string, string>;
};

export type ServiceBuild = {
  buildId: string;
  status: string;
  image?: { repository: string; tag: string; digest: string };
  /** Terraform plan builds: the saved plan. */
  plan?: SavedPlan;
  logUrl?: string;
  detail?: string;
};

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'rejected' | 'expired' | 'superseded' | 'rolled-back' | 'canceled';

/**
 * One event a stage emitted, kept with the run until every consumer has handled it. The stage
 * runner publishes an entry right after writing it; the reconciler publishes it again when a
 * consumer has not handled it in time (after a crash, a lost message, a dead process).
 */
export type OutboxEntry = {
  topic: string;
  /** The complete, validated event. */
  event: Record<string, unknown>;
  /** When the entry was written. */
  at: string;
  /** When it was last published; absent while it has only been written (or its publish failed). */
  publishedAt?: string;
  /** Consumers (stage names) that have handled it, with when. */
  handled?: Record<string, string>;
  /** How often the reconciler has published it again, and when it last did. */
  redrives?: number;
  redrivenAt?: string;
};

/** Something that happened to the run outside its stages: a repair, a re-drive. */
export type HistoryEntry = { at: string; by: string; note: string };

export type RunRecord = {
  runId: string;
  pipeline: string;
  kind: 'app' | 'terraform';
  /** The run's place in its pipeline's order of receipt (`RunOrder`): orders deploys. */
  order: string;
  provider: 'github' | 'gitlab';
  deliveryId: string;
  repository: string;
  ref: string;
  branch: string;
  before: string;
  after: string;
  pusher: { name: string; email?: string; username?: string };
  headMessage?: string;
  compareUrl?: string;
  /** The ledger stages this run goes through, in order (the manifest's `runPlan` for its pipeline, at intake). */
  plan?: string[];
  /** Services this run builds; set by intake when known, else by the mirror stage. */
  services: string[];
  createdAt: string;
  updatedAt: string;
  status: RunStatus;
  /** Why a run ended without succeeding. */
  reason?: string;
  stages: Record<string, StageRecord>;
  builds: Record<string, ServiceBuild>;
  outbox: Record<string, OutboxEntry>;
  history: HistoryEntry[];
  /** Each environment's decision (approval, or automatic promotion), by environment name: written once, with the stage and its event. */
  decisions?: Record<string, DecisionRecord>;
  /** The run's release once its builds are done: what it built, plus what it kept from the first environment's release. */
  release?: ReleaseImage[];
  /** What the run put in each environment (written by chartBump) and what verifying it found. */
  deployments?: Record<string, RunDeployment>;
  /** A rollback run: the environment it restores and the run whose release it restores. */
  rollback?: RollbackOf;
  /** A retry (`baton retry`): the run it repeats, which is always the push's first run, and which attempt this is (2 on). */
  retry?: RetryOf;
  /**
   * True from the write that ended the run until its `run-finished` event is published. The
   * reconciler walks only running runs, so this is how it finds an ended run whose announcement
   * a crash cut off (the ledger lists runs by it, through an index).
   */
  finishPending?: boolean;
};

export type RunDeployment = { images: ReleaseImage[]; chartVersion?: string; checks?: CheckVerdict[] };

export type RollbackOf = { environment: string; toRunId: string; fromRunId?: string; reason: string; by: Decider };

export type RetryOf = { runId: string; attempt: number; by: string; reason?: string };

export type NewRun = Omit<RunRecord, 'createdAt' | 'updatedAt' | 'status' | 'stages' | 'builds' | 'outbox' | 'history'>;

export type StageUpdate = { status: StageStatus; detail?: string; links?: Record<string, string>; at?: Date };

/** The stages a run goes through, in order (derived from the stage manifest, per run). */
export type StagePlan = (run: Pick<RunRecord, 'kind' | 'pipeline' | 'plan'>) => readonly string[];

export function newRunRecord(run: NewRun, at: Date, stages: RunRecord['stages'] = {}, outbox: RunRecord['outbox'] = {}): RunRecord {
  return { ...run, createdAt: at.toISOString(), updatedAt: at.toISOString(), status: 'running', stages, builds: {}, outbox, history: [] };
}

/**
 * Moves one stage forward on `run` (in place); false when nothing changed. A stage that has ended
 * never goes back, so a duplicate or late message cannot rewrite history. A run-ending outcome
 * ends the run with its reason and marks the stages it will never reach as skipped; the last
 * stage of the run's plan ending well ends the run as succeeded.
 */
export function applyStageUpdate(run: RunRecord, stage: string, update: StageUpdate, plan: StagePlan): boolean {
  const at = (update.at ?? new Date()).toISOString();
  const current = run.stages[stage];
  if (current && isTerminalStageStatus(current.status)) return false;
  if (current && current.status === update.status && current.detail === update.detail && !update.links) return false;
  run.stages[stage] = {
    status: update.status,
    startedAt: current?.startedAt ?? at,
    ...(isTerminalStageStatus(update.status) ? { endedAt: at } : {}),
    ...(update.detail !== undefined ? { detail: update.detail } : current?.detail !== undefined ? { detail: current.detail } : {}),
    ...(current?.links || update.links ? { links: { ...current?.links, ...update.links } } : {}),
  };
  if (run.status !== 'running') return true;
  const stages = plan(run);
  if (isRunEnding(update.status)) {
    endRun(run, update.status as RunStatus, `${stage}: ${update.detail ?? update.status}`, stages, at);
  } else if (isTerminalStageStatus(update.status) && stages.at(-1) === stage) {
    run.status = 'succeeded';
    announceEnd(run, at);
  }
  return true;
}

/**
 * Ends the run now: later stages are marked skipped (they will never run), with the reason. A
 * stage still open is failed with it, or canceled when the run is: Jenkins, too, shows the stage
 * a build was aborted in as aborted, not failed.
 */
export function endRun(run: RunRecord, status: RunStatus, reason: string, stages: readonly string[], at = new Date().toISOString()): void {
  run.status = status;
  if (status !== 'succeeded') run.reason = reason;
  for (const stage of stages) {
    const record = run.stages[stage];
    if (record && isTerminalStageStatus(record.status)) continue;
    run.stages[stage] = {
      status: record ? (status === 'canceled' ? 'canceled' : 'failed') : 'skipped',
      startedAt: record?.startedAt ?? at,
      endedAt: at,
      detail: record ? `${record.detail ? `${record.detail}; ` : ''}stopped: ${reason}` : status === 'succeeded' ? reason : `not run: ${reason}`,
      ...(record?.links ? { links: record.links } : {}),
    };
  }
  announceEnd(run, at);
}

/** What `cancelRun` did: canceled the run, or found it canceled already or ended otherwise. */
export type CancelOutcome = { outcome: 'canceled' | 'already-canceled' | 'ended'; status: RunStatus; reason?: string };

/**
 * `baton cancel`: ends a running run as canceled (in place), the way Cloud Build's and Jenkins'
 * cancel do, with who asked and why as its reason and in its history. What the run already did
 * stays done: a chart commit that landed is deployed by Argo CD as ever (roll back with `baton
 * rollback`); the command stops a build in flight after this write (`cli/commands/cancel.ts`).
 * The stage runner skips every later event of a run that has ended, so no stage starts after it.
 */
export function cancelRun(run: RunRecord, by: string, reason: string | undefined, stages: readonly string[], at: string): CancelOutcome {
  if (run.status !== 'running') return { outcome: run.status === 'canceled' ? 'already-canceled' : 'ended', status: run.status, ...(run.reason !== undefined ? { reason: run.reason } : {}) };
  const why = `canceled by ${by}${reason ? `: ${reason}` : ''}`;
  run.history.push({ at, by, note: why });
  endRun(run, 'canceled', why, stages, at);
  return { outcome: 'canceled', status: run.status, reason: why };
}

/** The outbox key of a run's one `run-finished` event. */
export const RUN_FINISHED_KEY = 'run-finished';

/**
 * Puts the run's `run-finished` event in its outbox (in place), in the write that ends the run.
 * `applyStageUpdate` and `endRun` are the only places a run leaves `running`, and both call
 * this, so every end is announced, once (the key is the outbox's own de-duplication), whoever
 * ended the run: the stage runner publishes it right after its write, the reconciler after its
 * own, and any other writer (the CLI, a test) leaves it to the reconciler, which finds the run
 * by `finishPending`.
 */
function announceEnd(run: RunRecord, at: string): void {
  if (run.status === 'running' || run.outbox[RUN_FINISHED_KEY]) return;
  const event = makeEvent('run-finished', {
    runId: run.runId,
    pipeline: run.pipeline,
    status: run.status,
    ...(run.reason !== undefined ? { reason: run.reason } : {}),
    // Runs written before orders had this form (and hand-made test runs) simply go without.
    ...(RunOrder.safeParse(run.order).success ? { order: run.order } : {}),
    at,
  });
  addToOutbox(run, [{ key: RUN_FINISHED_KEY, topic: 'run-finished', event }], at);
  run.finishPending = true;
}

/** Adds outbox entries that are not there yet (by key); returns the keys it added. */
export function addToOutbox(run: RunRecord, entries: ReadonlyArray<{ key: string; topic: string; event: Record<string, unknown> }>, at: string): string[] {
  const added: string[] = [];
  for (const entry of entries) {
    if (run.outbox[entry.key]) continue;
    run.outbox[entry.key] = { topic: entry.topic, event: entry.event, at };
    added.push(entry.key);
  }
  return added;
}

/** Records that a consumer handled an outbox entry; false when it already had (or the entry is not this run's). */
export function markHandled(run: RunRecord, key: string, consumer: string, at: string): boolean {
  const entry = run.outbox[key];
  if (!entry || entry.handled?.[consumer]) return false;
  entry.handled = { ...entry.handled, [consumer]: at };
  return true;
}
