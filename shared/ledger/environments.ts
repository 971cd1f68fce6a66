import type { ReleaseImage } from '../contracts/index.js';
import type { DocStore } from './docStore.js';
import { docId } from './docStore.js';

/**
 * Where a deployment of an environment stands: `in-progress` from its chart bump until its deploy
 * (and verification, where the environment has one) ends it. `canceled`: its run was canceled
 * before that, so nobody judged it. Its chart commit may still have deployed, as `baton cancel`
 * says, so it stays the environment's latest deployment (what a rollback moves away from); it is
 * never a rollback target, nor carried into a later run's release.
 */
export type DeploymentStatus = 'in-progress' | 'succeeded' | 'rolled-back' | 'failed' | 'superseded' | 'canceled';

/**
 * Each environment of a pipeline, `environments/<pipeline>~<environment>`: its hold, and the
 * deployments it has had (a run's promotion or a rollback), newest last. It answers "what runs
 * there now", "what ran there before" (rollback) and "may automation move it" (hold).
 */
export type EnvironmentDeployment = {
  environment: string;
  /** The run that deployed (a rollback run for a rollback). */
  runId: string;
  /** That run's order (`RunOrder`). */
  order: string;
  /** service → digest: what the environment runs once this deployment is done. */
  release: Record<string, string>;
  /** The same, with repositories and tags and who built each image: what a rollback writes back. */
  images: ReleaseImage[];
  at: string;
  status: DeploymentStatus;
  kind: 'promotion' | 'rollback';
  chartVersion?: string;
  /** The chart commit that made it: what a rollback to it restores the values file's image pins from. */
  chartCommit?: string;
};

export type EnvironmentHold = { reason: string; by: string; at: string };

export type EnvironmentRecord = {
  pipeline: string;
  environment: string;
  hold?: EnvironmentHold;
  history: EnvironmentDeployment[];
};

/**
 * Whether a newer deployment of the environment (another run's release, or a rollback) has been
 * recorded since this run's: chartBump records every deployment before it is published, so the
 * latest entry being another run's means this one has been overtaken.
 */
export function overtaken(record: EnvironmentRecord, runId: string): boolean {
  const latest = record.history.at(-1);
  return latest !== undefined && latest.runId !== runId;
}

/** Deployments kept per environment: enough to roll back a long way, small enough for one document. */
export const HISTORY_LIMIT = 50;

export class EnvironmentRecords {
  constructor(private readonly store: DocStore) {}

  private path(pipeline: string, environment: string): string {
    return `environments/${docId(pipeline, environment)}`;
  }

  async get(pipeline: string, environment: string): Promise<EnvironmentRecord> {
    return (await this.store.get<EnvironmentRecord>(this.path(pipeline, environment))) ?? { pipeline, environment, history: [] };
  }

  /** Puts the environment on hold; false when it already was (the first hold's reason stays). */
  async hold(pipeline: string, environment: string, hold: EnvironmentHold): Promise<boolean> {
    const { changed } = await this.store.update<EnvironmentRecord>(this.path(pipeline, environment), (current) =>
      current?.hold ? undefined : { ...(current ?? { pipeline, environment, history: [] }), hold },
    );
    return changed;
  }

  /** Lifts the hold; the hold that was lifted, or undefined when there was none. */
  async release(pipeline: string, environment: string): Promise<EnvironmentHold | undefined> {
    let lifted: EnvironmentHold | undefined;
    await this.store.update<EnvironmentRecord>(this.path(pipeline, environment), (current) => {
      lifted = current?.hold;
      if (!current?.hold) return undefined;
      const { hold: _hold, ...rest } = current;
      return rest;
    });
    return lifted;
  }

  /** Records a deployment once per run (a redelivery changes nothing), keeping the newest `HISTORY_LIMIT`. */
  async recordDeployment(pipeline: string, deployment: EnvironmentDeployment): Promise<void> {
    await this.store.update<EnvironmentRecord>(this.path(pipeline, deployment.environment), (current) => {
      const record = current ?? { pipeline, environment: deployment.environment, history: [] };
      if (record.history.some((entry) => entry.runId === deployment.runId)) return undefined;
      return { ...record, history: [...record.history, deployment].slice(-HISTORY_LIMIT) };
    });
  }

  /**
   * Moves a run's deployment to its end status (succeeded, rolled back, failed); a deployment that
   * has ended stays as it is. Except `canceled`, which nobody judged: a verification that was
   * already under way when its run was canceled still gives its verdict, and that replaces it.
   */
  async settleDeployment(pipeline: string, environment: string, runId: string, status: Exclude<DeploymentStatus, 'in-progress'>): Promise<void> {
    await this.store.update<EnvironmentRecord>(this.path(pipeline, environment), (current) => {
      const entry = current?.history.find((candidate) => candidate.runId === runId);
      const open = entry?.status === 'in-progress' || (entry?.status === 'canceled' && status !== 'canceled');
      if (!current || !entry || !open) return undefined;
      return { ...current, history: current.history.map((candidate) => (candidate === entry ? { ...candidate, status } : candidate)) };
    });
  }
}
