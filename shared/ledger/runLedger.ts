import type { Doc, DocStore } from './docStore.js';
import { docId } from './docStore.js';

/** The stages a run's timeline shows, in order. */
export const STAGES = ['intake', 'mirror', 'build', 'approval', 'chart', 'deploy'] as const;
export type Stage = (typeof STAGES)[number];

export const STAGE_STATUSES = ['running', 'waiting', 'succeeded', 'failed', 'skipped', 'rejected', 'expired', 'superseded'] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];
const TERMINAL: ReadonlySet<StageStatus> = new Set(['succeeded', 'failed', 'skipped', 'rejected', 'expired', 'superseded']);
/** Outcomes that end the whole run unsuccessfully. */
const RUN_ENDING: ReadonlySet<StageStatus> = new Set(['failed', 'rejected', 'expired', 'superseded']);

export function isTerminalStageStatus(status: StageStatus): boolean {
  return TERMINAL.has(status);
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
  logUrl?: string;
  detail?: string;
};

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'rejected' | 'expired' | 'superseded';

export type RunRecord = {
  runId: string;
  pipeline: string;
  kind: 'app' | 'terraform';
  seq: number;
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
  /** Services this run builds; set by intake when known, else by the mirror stage. */
  services: string[];
  createdAt: string;
  updatedAt: string;
  status: RunStatus;
  stages: Partial<Record<Stage, StageRecord>>;
  builds: Record<string, ServiceBuild>;
};

export type NewRun = Omit<RunRecord, 'createdAt' | 'updatedAt' | 'status' | 'stages' | 'builds'>;

export type StageUpdate = { status: StageStatus; detail?: string; links?: Record<string, string>; at?: Date };

function newRunRecord(run: NewRun, at: Date, stages: RunRecord['stages']): RunRecord {
  return { ...run, createdAt: at.toISOString(), updatedAt: at.toISOString(), status: 'running', stages, builds: {} };
}

/**
 * The run ledger: runs and their stage timelines, webhook deliveries, once-only claims and
 * each service's deployed sequence. Every decision that must happen once is a conditional
 * write here, which is what makes the at-least-once chain safe to redeliver.
 */
export class RunLedger {
  constructor(readonly store: DocStore) {}

  /** True for the first sighting of a webhook delivery id; false for a redelivery. */
  acceptDelivery(provider: string, deliveryId: string, runId: string): Promise<boolean> {
    return this.store.create(`deliveries/${docId(provider, deliveryId)}`, { provider, deliveryId, runId, at: new Date().toISOString() });
  }

  /**
   * Starts a run for a webhook delivery in one atomic write: claims the delivery id, takes the
   * pipeline's next sequence and creates the run. Resolves undefined for a redelivery. One
   * transaction instead of three writes: nothing half-done is left behind, and it is faster.
   */
  async startRun(
    delivery: { provider: string; deliveryId: string },
    describe: (seq: number) => NewRun,
    stages: (run: NewRun, at: Date) => RunRecord['stages'] = () => ({}),
    at = new Date(),
  ): Promise<RunRecord | undefined> {
    return this.store.transact(async (tx) => {
      const deliveryPath = `deliveries/${docId(delivery.provider, delivery.deliveryId)}`;
      if (await tx.get(deliveryPath)) return undefined;
      const pipelineName = describe(0).pipeline;
      const pipelinePath = `pipelines/${docId(pipelineName)}`;
      const seq = ((await tx.get<{ seq: number }>(pipelinePath))?.seq ?? 0) + 1;
      const run = describe(seq);
      const record = newRunRecord(run, at, stages(run, at));
      tx.create(deliveryPath, { ...delivery, runId: run.runId, at: at.toISOString() });
      tx.set(pipelinePath, { seq });
      tx.create(`runs/${docId(run.runId)}`, record);
      return record;
    });
  }

  /** Forgets a delivery whose run could not be published, so the host's redelivery is accepted. */
  releaseDelivery(provider: string, deliveryId: string): Promise<void> {
    return this.store.delete(`deliveries/${docId(provider, deliveryId)}`);
  }

  /** The next run sequence for a pipeline (1, 2, …); orders deploys so a chart never goes backwards. */
  async nextSeq(pipeline: string): Promise<number> {
    const { doc } = await this.store.update<{ seq: number }>(`pipelines/${docId(pipeline)}`, (current) => ({ seq: (current?.seq ?? 0) + 1 }));
    return doc!.seq;
  }

  /** Creates the run, optionally with its first stages already recorded (one write instead of several). */
  async createRun(run: NewRun, at = new Date(), stages: RunRecord['stages'] = {}): Promise<RunRecord> {
    const record = newRunRecord(run, at, stages);
    await this.store.create(`runs/${docId(run.runId)}`, record);
    return record;
  }

  getRun(runId: string): Promise<RunRecord | undefined> {
    return this.store.get<RunRecord>(`runs/${docId(runId)}`);
  }

  /** Newest first. */
  async listRuns(limit = 20): Promise<RunRecord[]> {
    const runs = await this.store.list<RunRecord>('runs');
    return runs.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.seq - a.seq).slice(0, limit);
  }

  /** Atomic read-modify-write of a run; `update` returns undefined to leave it unchanged. */
  async updateRun(runId: string, update: (run: RunRecord) => RunRecord | undefined): Promise<RunRecord | undefined> {
    const { doc } = await this.store.update<RunRecord>(`runs/${docId(runId)}`, (current) => {
      if (!current) return undefined;
      const next = update(current);
      if (next) next.updatedAt = new Date().toISOString();
      return next;
    });
    return doc;
  }

  /**
   * Moves a stage forward. A stage that has ended never goes back to running, so a duplicate or
   * late message cannot rewrite history; a run-ending outcome also ends the run.
   */
  recordStage(runId: string, stage: Stage, update: StageUpdate): Promise<RunRecord | undefined> {
    const at = (update.at ?? new Date()).toISOString();
    return this.updateRun(runId, (run) => {
      const current = run.stages[stage];
      if (current && isTerminalStageStatus(current.status)) return undefined;
      if (current && current.status === update.status && current.detail === update.detail && !update.links) return undefined;
      const next: StageRecord = {
        status: update.status,
        startedAt: current?.startedAt ?? at,
        ...(isTerminalStageStatus(update.status) ? { endedAt: at } : {}),
        ...(update.detail !== undefined ? { detail: update.detail } : current?.detail !== undefined ? { detail: current.detail } : {}),
        ...(current?.links || update.links ? { links: { ...current?.links, ...update.links } } : {}),
      };
      run.stages[stage] = next;
      if (run.status === 'running') {
        if (RUN_ENDING.has(update.status)) run.status = update.status as RunStatus;
        else if (stage === 'deploy' && isTerminalStageStatus(update.status)) run.status = 'succeeded';
      }
      return run;
    });
  }

  /** A once-only marker: true for the single caller that claims `key` first. */
  claim(key: string, value: Doc = {}): Promise<boolean> {
    return this.store.create(`claims/${docId(key)}`, { key, ...value, at: new Date().toISOString() });
  }

  getClaim<T extends Doc>(key: string): Promise<T | undefined> {
    return this.store.get<T>(`claims/${docId(key)}`);
  }

  /** Gives a claim back when the work it guarded failed before it had any effect, so a retry can claim it. */
  releaseClaim(key: string): Promise<void> {
    return this.store.delete(`claims/${docId(key)}`);
  }

  /**
   * Advances a service's deployed sequence if `seq` is newer than what is recorded. Returns
   * false when a newer (or the same) run already holds it: the caller must not deploy backwards.
   */
  async advanceDeployed(pipeline: string, service: string, seq: number, runId: string): Promise<{ advanced: boolean; current: number }> {
    const { doc, changed } = await this.store.update<{ seq: number; runId: string }>(`deployed/${docId(pipeline, service)}`, (current) =>
      current && current.seq >= seq ? undefined : { seq, runId },
    );
    return { advanced: changed, current: doc?.seq ?? 0 };
  }

  async deployedSeq(pipeline: string, service: string): Promise<number> {
    return (await this.store.get<{ seq: number }>(`deployed/${docId(pipeline, service)}`))?.seq ?? 0;
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
