import { IMPLICIT_ENVIRONMENT } from '../contracts/index.js';
import type { Doc, DocIndex, DocStore } from './docStore.js';
import { docId } from './docStore.js';
import { expireAtFrom } from './expiry.js';
import { ApprovalRecords } from './approvals.js';
import { EnvironmentRecords } from './environments.js';
import { BuildRecords } from './builds.js';
import { GitReports } from './gitReports.js';
import type { NewRun, RunRecord, RunStatus, StagePlan, StageUpdate } from './runRecord.js';
import { RUN_FINISHED_KEY, applyStageUpdate, newRunRecord } from './runRecord.js';

export * from './runRecord.js';
export { LEDGER_EXPIRY } from './expiry.js';

/**
 * The queries the ledger runs, and so the indexes they need: the newest runs (all, or one
 * pipeline's) for `baton runs`, the runs still going and the ended runs whose end is not yet
 * announced for the reconciler, and a run by its webhook delivery for the missed-webhook sweep.
 * Firestore makes single-field indexes itself; the composite one is declared in Terraform
 * (`google_firestore_index`, cross-checked by `test/terraform`).
 */
export const LEDGER_INDEXES: readonly DocIndex[] = [
  { collection: 'runs', fields: [{ field: 'createdAt', direction: 'desc' }] },
  { collection: 'runs', fields: [{ field: 'pipeline', direction: 'asc' }, { field: 'createdAt', direction: 'desc' }] },
  { collection: 'runs', fields: [{ field: 'status', direction: 'asc' }] },
  { collection: 'runs', fields: [{ field: 'finishPending', direction: 'asc' }] },
  { collection: 'runs', fields: [{ field: 'deliveryId', direction: 'asc' }] },
  { collection: 'approvals', fields: [{ field: 'status', direction: 'asc' }] },
];

/**
 * The run ledger: runs (each with its stage timeline and its outbox), once-only claims, the
 * records of builds and approvals, and each service's deployed run. Every decision that must
 * happen once is a conditional write here, which is what makes the at-least-once chain safe to
 * redeliver. The document store behind it is private: callers speak in runs, claims and records.
 */
export class RunLedger {
  readonly #store: DocStore;
  readonly approvals: ApprovalRecords;
  readonly environments: EnvironmentRecords;
  readonly builds: BuildRecords;
  /** gitStatus's once-only claims and ordering records. */
  readonly gitReports: GitReports;

  constructor(store: DocStore) {
    this.#store = store;
    this.approvals = new ApprovalRecords(store);
    this.environments = new EnvironmentRecords(store);
    this.builds = new BuildRecords(store);
    this.gitReports = new GitReports(store);
  }

  /**
   * Creates a run with its first stages and outbox in one create-if-absent write on a document
   * of its own: no counter or other shared document is written, so bursts of pushes never
   * contend. Resolves `created: false` with the existing run when the id is taken (a redelivery).
   */
  async createRun(run: NewRun, at: Date, stages: RunRecord['stages'], outbox: RunRecord['outbox']): Promise<{ created: boolean; run: RunRecord }> {
    const record = newRunRecord(run, at, stages, outbox);
    if (await this.#store.create(runPath(run.runId), record)) return { created: true, run: record };
    const existing = await this.getRun(run.runId);
    if (!existing) throw new Error(`failed to create run ${run.runId}: it exists but cannot be read`);
    return { created: false, run: existing };
  }

  getRun(runId: string): Promise<RunRecord | undefined> {
    return this.#store.get<RunRecord>(runPath(runId));
  }

  /** The newest runs first, read through an index: the cost grows with `limit`, not with the ledger. */
  listRuns(options: { limit: number; pipeline?: string }): Promise<RunRecord[]> {
    return this.#store.query<RunRecord>('runs', {
      ...(options.pipeline ? { where: { pipeline: options.pipeline } } : {}),
      orderBy: { field: 'createdAt', direction: 'desc' },
      limit: options.limit,
    });
  }

  /** Runs that have not ended yet: what the reconciler walks. */
  listRunsWithStatus(status: RunStatus, limit: number): Promise<RunRecord[]> {
    return this.#store.query<RunRecord>('runs', { where: { status }, limit });
  }

  /** Ended runs whose `run-finished` event has not been published yet: what the reconciler announces for a writer that died. */
  listRunsAwaitingFinish(limit: number): Promise<RunRecord[]> {
    return this.#store.query<RunRecord>('runs', { where: { finishPending: true }, limit });
  }

  /** Whether intake holds a run for this webhook delivery id (`X-GitHub-Delivery`): the sweep leaves those alone. */
  async hasDelivery(deliveryId: string): Promise<boolean> {
    return (await this.#store.query<RunRecord>('runs', { where: { deliveryId }, limit: 1 })).length > 0;
  }

  /** Atomic read-modify-write of a run; `update` changes the run in place and returns false to leave it as it was. */
  async updateRun(runId: string, update: (run: RunRecord) => boolean): Promise<{ run: RunRecord | undefined; changed: boolean }> {
    const { doc, changed } = await this.#store.update<RunRecord>(runPath(runId), (current) => {
      if (!current) return undefined;
      if (!update(current)) return undefined;
      current.updatedAt = new Date().toISOString();
      return current;
    });
    return { run: doc, changed };
  }

  /**
   * Notes that outbox entries went out on the bus. The reconciler publishes an entry that was
   * written but never published at once, and intake tells a redelivery of a push whose event
   * never went out (the process died first) from a plain duplicate.
   */
  async markPublished(runId: string, keys: readonly string[], at: Date): Promise<void> {
    for (const key of keys) await this.#store.setField(runPath(runId), ['outbox', key, 'publishedAt'], at.toISOString());
    // After the publishedAt mark: should this write be lost, the reconciler only publishes it once more.
    if (keys.includes(RUN_FINISHED_KEY)) await this.#store.setField(runPath(runId), ['finishPending'], false);
  }

  /** Moves one stage of a run forward (see `applyStageUpdate`). For what is not a stage's own outcome: the CLI, sweeps, tests. */
  async recordStage(runId: string, stage: string, update: StageUpdate, plan: StagePlan): Promise<RunRecord | undefined> {
    return (await this.updateRun(runId, (run) => applyStageUpdate(run, stage, update, plan))).run;
  }

  /**
   * A once-only marker: true for the single caller that claims `key` first (keys: `claimKeys.ts`).
   * It expires `LEDGER_LIFETIME_DAYS` on (LEDGER_EXPIRY), long after its run has ended.
   */
  claim(key: string, value: Doc = {}): Promise<boolean> {
    const at = new Date();
    return this.#store.create(claimPath(key), { key, ...value, at: at.toISOString(), expireAt: expireAtFrom(at) });
  }

  getClaim<T extends Doc>(key: string): Promise<T | undefined> {
    return this.#store.get<T>(claimPath(key));
  }

  /** Adds fields to a claim that is held (e.g. the id of the build it started). */
  async extendClaim(key: string, fields: Doc): Promise<void> {
    await this.#store.update<Doc>(claimPath(key), (current) => (current ? { ...current, ...fields } : undefined));
  }

  /** Gives a claim back when the work it guarded failed before it had any effect, so a retry can claim it. */
  releaseClaim(key: string): Promise<void> {
    return this.#store.delete(claimPath(key));
  }

  /**
   * Moves a service's deployed run forward if `order` is later than the one recorded. False when
   * a later (or the same) run holds it: the caller must not deploy backwards. Written only at
   * chart bump, once per approved run and service, so it is never a hot document.
   */
  async advanceDeployed(pipeline: string, service: string, order: string, runId: string, environment: string = IMPLICIT_ENVIRONMENT): Promise<{ advanced: boolean; current: string | undefined }> {
    const { doc, changed } = await this.#store.update<{ order: string; runId: string }>(deployedPath(pipeline, service, environment), (current) =>
      current && current.order >= order ? undefined : { order, runId },
    );
    return { advanced: changed, current: doc?.order };
  }

  /** The run a service was last deployed from in an environment, and its order, if any. */
  async deployed(pipeline: string, service: string, environment: string = IMPLICIT_ENVIRONMENT): Promise<{ order: string; runId: string } | undefined> {
    return this.#store.get<{ order: string; runId: string }>(deployedPath(pipeline, service, environment));
  }

  /**
   * Each pipeline's deploy health, for the DORA time-to-restore: a failed deploy keeps the first
   * failure's time; the next good deploy reports the seconds since then and clears it.
   */
  async recordDeployHealth(pipeline: string, failed: boolean, now: Date): Promise<number | undefined> {
    let restoreSeconds: number | undefined;
    await this.#store.update<{ failingSince?: string; updatedAt: string }>(`deployHealth/${docId(pipeline)}`, (current) => {
      restoreSeconds = undefined;
      const at = now.toISOString();
      if (failed) return { failingSince: current?.failingSince ?? at, updatedAt: at };
      if (current?.failingSince) restoreSeconds = Math.max(0, Math.round((now.getTime() - Date.parse(current.failingSince)) / 1000));
      return { updatedAt: at };
    });
    return restoreSeconds;
  }

  close(): Promise<void> {
    return this.#store.close();
  }
}

const runPath = (runId: string) => `runs/${docId(runId)}`;
const claimPath = (key: string) => `claims/${docId(key)}`;
/** Each environment's deployed build per service; the implicit environment's documents keep their names from before environments. */
const deployedPath = (pipeline: string, service: string, environment: string) =>
  `deployed/${environment === IMPLICIT_ENVIRONMENT ? docId(pipeline, service) : docId(pipeline, environment, service)}`;
